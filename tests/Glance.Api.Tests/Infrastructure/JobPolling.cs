using System.Net.Http.Json;
using Glance.Contracts.Jobs;

namespace Glance.Api.Tests.Infrastructure;

/// <summary>Polls GET /jobs/{id} until the job's status satisfies a condition.</summary>
public static class JobPolling
{
    public static async Task<JobResponse> WaitForStatusAsync(HttpClient client, string id, Func<string, bool> reached)
    {
        JobResponse? job = null;
        await Eventually.TrueAsync(async () =>
        {
            job = await client.GetFromJsonAsync<JobResponse>($"/jobs/{id}");
            return reached(job!.Status);
        }, $"job {id} to reach the awaited status");
        return job!;
    }
}
