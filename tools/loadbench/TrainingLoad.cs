using System.Net.Http.Headers;
using System.Text.Json;

namespace Glance.LoadBench;

/// <summary>
/// One adapter training job kept running beside the generation load (POST /v1/adapters/{set}/train with an admin key),
/// started before a level and cancelled after it, so that the level's latencies show what training costs generation.
/// </summary>
/// <param name="client">Sends the admin key on every call (the job's state needs a key as well when keys are on).</param>
internal sealed class TrainingLoad(HttpClient client, string set, FileInfo image, string caption)
{
    public async Task<string> StartAsync(CancellationToken cancellationToken)
    {
        using var content = new MultipartFormDataContent();
        var file = new ByteArrayContent(await File.ReadAllBytesAsync(image.FullName, cancellationToken));
        file.Headers.ContentType = new MediaTypeHeaderValue(image.Extension.Equals(".png", StringComparison.OrdinalIgnoreCase) ? "image/png" : "image/jpeg");
        content.Add(file, "image", image.Name);
        content.Add(new StringContent(caption), "caption");
        // More steps than any level lasts: the job is cancelled when the level ends.
        content.Add(new StringContent("1000"), "steps");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/adapters/{set}/train") { Content = content };
        using var response = await client.SendAsync(request, cancellationToken);
        string body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"The training job was refused: {(int)response.StatusCode} {body}");
        string job = response.Headers.Location?.OriginalString ?? throw new InvalidOperationException("The training job's answer has no Location.");
        // Wait for its first step, so the level measures generation beside a running job, not beside its start.
        while (true)
        {
            using var state = JsonDocument.Parse(await client.GetStringAsync(new Uri(job, UriKind.Relative), cancellationToken));
            if (state.RootElement.GetProperty("step").GetInt32() > 0) return job;
            if (state.RootElement.GetProperty("status").GetString() is "failed" or "cancelled") throw new InvalidOperationException($"The training job ended: {state.RootElement}");
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Cancels the job and returns the training steps it ran.</summary>
    public async Task<int> StopAsync(string job, CancellationToken cancellationToken)
    {
        using (var _ = await client.DeleteAsync(new Uri(job, UriKind.Relative), cancellationToken))
        {
        }
        while (true)
        {
            using var state = JsonDocument.Parse(await client.GetStringAsync(new Uri(job, UriKind.Relative), cancellationToken));
            if (state.RootElement.GetProperty("status").GetString() is "cancelled" or "failed" or "completed")
                return state.RootElement.GetProperty("step").GetInt32();
            await Task.Delay(100, cancellationToken);
        }
    }
}
