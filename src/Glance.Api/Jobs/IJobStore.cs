using Glance.Contracts.Jobs;

namespace Glance.Api.Jobs;

/// <summary>
/// Where asynchronous jobs, their events and their images live. Entries expire some time after their last
/// change. Implementations must keep each job's events in the order they were appended.
/// </summary>
internal interface IJobStore
{
    Task AddAsync(JobResponse job, JobEvent created, CancellationToken cancellationToken);

    Task<JobResponse?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Applies <paramref name="change"/> atomically and appends <paramref name="evt"/>, if any; null when the job is gone.</summary>
    Task<JobResponse?> UpdateAsync(string id, Func<JobResponse, JobResponse> change, JobEvent? evt, CancellationToken cancellationToken);

    Task SetImageAsync(string id, byte[] png, CancellationToken cancellationToken);

    Task<byte[]?> GetImageAsync(string id, CancellationToken cancellationToken);

    /// <summary>The job's events from the first, then new ones as they come, ending after a terminal event.</summary>
    IAsyncEnumerable<JobEvent> ReadEventsAsync(string id, CancellationToken cancellationToken);
}
