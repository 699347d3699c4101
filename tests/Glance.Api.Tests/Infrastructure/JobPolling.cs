using System.Net.Http.Json;
using Glance.Contracts.Jobs;

namespace Glance.Api.Tests.Infrastructure;

/// <summary>Polls GET /jobs/{id} until the job satisfies a condition.</summary>
public static class JobPolling
{
    public static Task<JobResponse> WaitForStatusAsync(HttpClient client, string id, Func<string, bool> reached) =>
        WaitForAsync(client, id, job => reached(job.Status), "the awaited status");

    /// <summary>Polls GET /jobs/{id} until the job satisfies <paramref name="reached"/>, and returns that response.</summary>
    public static async Task<JobResponse> WaitForAsync(HttpClient client, string id, Func<JobResponse, bool> reached, string what)
    {
        JobResponse? job = null;
        await Eventually.TrueAsync(async () =>
        {
            job = await client.GetFromJsonAsync<JobResponse>($"/jobs/{id}");
            return reached(job!);
        }, $"job {id} to reach {what}");
        return job!;
    }
}
