using Glance.Api.Tests.Fakes;
using Glance.Contracts.Generation;

namespace Glance.Api.Tests.Infrastructure;

/// <summary>Requests that share the engine's calls from the first: one holds the engine at its first step while the others queue, then all go.</summary>
internal static class Lockstep
{
    /// <summary>Seed 0 ("blocker") first, then seeds 1 to <paramref name="count"/> - 1 (prompt "p"); the responses in that order.</summary>
    public static async Task<HttpResponseMessage[]> GenerateAsync(GlanceApp app, FakeEngine engine, HttpClient client, int count)
    {
        engine.CloseGate();
        Task<HttpResponseMessage> blocker = Generate(client, "blocker", 0);
        await Eventually.TrueAsync(() => engine.StepsEntered == 1, "the first step to reach the gate");
        Task<HttpResponseMessage>[] waiting = [.. Enumerable.Range(1, count - 1).Select(seed => Generate(client, "p", seed))];
        await Eventually.TrueAsync(() => app.Services.GetQueueCount() == count - 1, $"{count - 1} requests to wait");
        engine.OpenGate();
        return await Task.WhenAll(waiting.Prepend(blocker));
    }

    static Task<HttpResponseMessage> Generate(HttpClient client, string prompt, long seed) =>
        client.PostAsync("/generate", GlanceApp.Json(new GenerateRequest(prompt, Seed: seed)));
}
