using System.Net;

namespace Glance.Api.Tests.Infrastructure;

/// <summary>Polls a condition that another thread makes true, failing with a description after a timeout.</summary>
public static class Eventually
{
    static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        if (!await BecomesTrueAsync(condition, timeout)) Assert.Fail($"Timed out waiting for {what}.");
    }

    /// <summary>Polls like <see cref="TrueAsync(Func{Task{bool}}, string, TimeSpan?)"/>, but returns false on timeout, for a test that says itself what is missing.</summary>
    public static async Task<bool> BecomesTrueAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        DateTime deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(5);
        }
        return true;
    }

    public static Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        TrueAsync(() => Task.FromResult(condition()), what, timeout);

    /// <summary>Waits until the server answers /readyz with 200 (model loaded and warmed up).</summary>
    public static Task ReadyAsync(HttpClient client, string what, TimeSpan? timeout = null) =>
        TrueAsync(async () =>
        {
            using HttpResponseMessage response = await client.GetAsync(new Uri("/readyz", UriKind.Relative));
            return response.StatusCode == HttpStatusCode.OK;
        }, what, timeout);

    /// <summary>Waits until /readyz answers that the engine could not be loaded, and returns the reason it gives.</summary>
    public static async Task<string> FaultedAsync(HttpClient client, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        string? reason = null;
        await TrueAsync(async () =>
        {
            using HttpResponseMessage response = await client.GetAsync(new Uri("/readyz", UriKind.Relative));
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable) return false;
            using var problem = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            if (!problem.RootElement.GetProperty("type").GetString()!.EndsWith("engine-unavailable", StringComparison.Ordinal)) return false;
            reason = problem.RootElement.GetProperty("detail").GetString();
            return true;
        }, "/readyz to report that the engine could not be loaded", timeout);
        return reason!;
    }
}
