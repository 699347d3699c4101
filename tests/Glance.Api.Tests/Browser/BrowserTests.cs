using Glance.Api.Tests.Infrastructure;

namespace Glance.Api.Tests.Browser;

/// <summary>Swagger UI and the playground in headless Chromium, against the API on a real Kestrel port.</summary>
public class BrowserTests
{
    static readonly TimeSpan PageTimeout = TimeSpan.FromSeconds(30);

    [ChromiumFact]
    public async Task SwaggerUiListsTheEndpoints()
    {
        await using var app = new GlanceApp();
        Uri server = app.StartKestrel();
        await using HeadlessChromium browser = await HeadlessChromium.LaunchAsync();

        await browser.NavigateAsync(new Uri(server, "/swagger/index.html"));
        await browser.WaitForAsync("document.querySelectorAll('.opblock').length >= 8", "Swagger UI to render the operations", PageTimeout);
        string paths = (await browser.EvaluateAsync(
            "[...document.querySelectorAll('.opblock-summary-path')].map(e => e.textContent.replace(/\\u200b/g, '')).join(' ')")).GetString()!;

        foreach (string path in new[] { "/generate", "/v1/images/generations", "/jobs", "/jobs/{id}/events", "/readyz" })
            Assert.Contains(path, paths, StringComparison.Ordinal);
    }

    [ChromiumFact]
    public async Task PlaygroundShowsTheImageAndAPhaseBar()
    {
        await using var app = new GlanceApp();
        Uri server = app.StartKestrel();
        using (HttpClient _ = await app.ReadyClientAsync()) { }
        await using HeadlessChromium browser = await HeadlessChromium.LaunchAsync();

        await browser.NavigateAsync(server);
        await browser.WaitForAsync("document.readyState === 'complete' && !!document.getElementById('generate')", "the playground to load", PageTimeout);
        await browser.EvaluateAsync("""
            document.getElementById('prompt').value = 'a lighthouse';
            document.getElementById('seed').value = '42';
            document.getElementById('generate').click();
            """);
        await browser.WaitForAsync("document.getElementById('image').naturalWidth > 0", "the generated image", PageTimeout);

        string phases = (await browser.EvaluateAsync("[...document.querySelectorAll('#bar [data-phase]')].map(e => e.dataset.phase).join(',')")).GetString()!;
        string status = (await browser.EvaluateAsync("document.getElementById('status').textContent")).GetString()!;
        Assert.Equal("queue,encode,slow,fast,decode,png", phases);
        Assert.StartsWith("Seed 42, 32×32, glance", status, StringComparison.Ordinal);
        Assert.Equal(32, (await browser.EvaluateAsync("document.getElementById('image').naturalWidth")).GetInt32());
    }
}
