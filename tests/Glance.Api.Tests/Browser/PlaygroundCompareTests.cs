using System.Globalization;
using Glance.Api.Engine;
using Glance.Api.Options;
using Glance.Api.Tests.Infrastructure;
using Glance.Mini.World;
using Xunit.Abstractions;

namespace Glance.Api.Tests.Browser;

/// <summary>
/// The playground in headless Chromium over the shipped glance-mini model at its default size (64x64, what it was trained
/// at; at 32x32 it draws no shape, which would make a poor screenshot): the model's own example
/// prompt, Compare (glance and base with one seed, both timing bars, the speed-up), the session history, and a
/// validation error. The compare view is saved as a screenshot for people to look at (path in the test output).
/// </summary>
[Collection(TimedAlone.Name)]
public sealed class PlaygroundCompareTests(ITestOutputHelper output)
{
    static readonly TimeSpan PageTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Where the run leaves the compare view's screenshot: beside the test assembly.</summary>
    public static string ScreenshotPath => Path.Combine(AppContext.BaseDirectory, "screenshots", "playground-compare.png");

    static GlanceApp ShippedModelApp() => new(engineFactory: new TorchEngineFactory(Microsoft.Extensions.Options.Options.Create(
        new ModelOptions { Device = "cpu" })));

    [ChromiumFact]
    public async Task ComparesGlanceWithBaseOnAnExamplePromptOfTheModelsWorld()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using GlanceApp app = ShippedModelApp();
        Uri server = app.StartKestrel();
        await Eventually.ReadyAsync(app.CreateClient(), "glance-mini to become ready", TimeSpan.FromSeconds(90));
        output.WriteLine($"ready after {clock.ElapsedMilliseconds} ms");
        await using HeadlessChromium browser = await HeadlessChromium.LaunchAsync();

        await browser.NavigateAsync(server);
        await browser.WaitForAsync("document.getElementById('examples')?.options.length > 0", "the model's example prompts", PageTimeout);
        output.WriteLine($"page after {clock.ElapsedMilliseconds} ms");
        string prompt = (await browser.EvaluateAsync("document.getElementById('prompt').value")).GetString()!;
        string[] examples = [.. (await browser.EvaluateAsync("[...document.getElementById('examples').options].map(o => o.value)"))
            .EnumerateArray().Select(e => e.GetString()!)];
        Assert.Equal(WorldExamples.Prompts(8), examples);
        Assert.Equal(examples[0], prompt);
        // glance-mini's configured adapters are the set "default", offered with its phases.
        Assert.Equal("default", (await browser.EvaluateAsync("[...document.getElementById('adapters').options].map(o => o.value).join(',')")).GetString());
        Assert.Contains("slow: rank", (await browser.EvaluateAsync("document.getElementById('adaptersHint').textContent")).GetString(), StringComparison.Ordinal);

        await browser.EvaluateAsync("""
            document.getElementById('seed').value = '7';
            document.getElementById('compareSwitch').checked = true;
            document.getElementById('generate').click();
            """);
        await browser.WaitForAsync("!!document.getElementById('speedup').dataset.value", "the compare run's speed-up", PageTimeout);
        output.WriteLine($"compared after {clock.ElapsedMilliseconds} ms");

        Assert.Equal(64, (await browser.EvaluateAsync("document.getElementById('compareGlance').naturalWidth")).GetInt32());
        Assert.Equal(64, (await browser.EvaluateAsync("document.getElementById('compareBase').naturalWidth")).GetInt32());
        Assert.Equal("queue,encode,slow,fast,decode,png", await PhasesAsync(browser, "barGlance"));
        Assert.Equal("queue,encode,base,decode,png", await PhasesAsync(browser, "barBase"));
        double speedup = double.Parse((await browser.EvaluateAsync("document.getElementById('speedup').dataset.value")).GetString()!, CultureInfo.InvariantCulture);
        string shown = (await browser.EvaluateAsync("document.getElementById('speedup').textContent")).GetString()!;
        output.WriteLine($"glance vs base (50 steps) at 64x64: {shown}");
        // 10 transformer steps against 50: the same encode and decode around them cannot make glance the slower one.
        string timings = (await browser.EvaluateAsync("document.getElementById('status').textContent")).GetString()!;
        Assert.True(speedup > 1, $"speed-up {speedup}: {timings}");
        Assert.EndsWith("× faster", shown, StringComparison.Ordinal);
        await browser.ScreenshotAsync(ScreenshotPath);
        output.WriteLine($"compare view screenshot: {ScreenshotPath}");

        // Both results are in the session history (newest first); running the glance one again gives its seed back.
        string history = (await browser.EvaluateAsync("[...document.querySelectorAll('#history li span')].map(e => e.textContent).join('\\n')")).GetString()!;
        Assert.StartsWith($"{prompt} · seed 7 · base", history, StringComparison.Ordinal);
        Assert.Contains($"{prompt} · seed 7 · glance", history, StringComparison.Ordinal);
        await browser.EvaluateAsync("document.querySelectorAll('#history button')[1].click()");
        await browser.WaitForAsync("document.querySelectorAll('#history li').length === 3", "the re-run in the history", PageTimeout);
        string status = (await browser.EvaluateAsync("document.getElementById('status').textContent")).GetString()!;
        Assert.StartsWith("Seed 7, 64×64, glance", status, StringComparison.Ordinal);
    }

    [ChromiumFact]
    public async Task AValidationErrorShowsTheProblemsDetailAndFieldMessage()
    {
        await using var app = new GlanceApp();
        Uri server = app.StartKestrel();
        using (HttpClient _ = await app.ReadyClientAsync()) { }
        await using HeadlessChromium browser = await HeadlessChromium.LaunchAsync();

        await browser.NavigateAsync(server);
        await browser.WaitForAsync("document.getElementById('examples')?.options.length > 0", "the model's example prompts", PageTimeout);
        await browser.EvaluateAsync("""
            document.getElementById('width').value = '40';
            document.getElementById('generate').click();
            """);
        await browser.WaitForAsync("document.getElementById('status').className === 'error'", "the error message", PageTimeout);

        string status = (await browser.EvaluateAsync("document.getElementById('status').textContent")).GetString()!;
        Assert.StartsWith("The request has invalid fields.", status, StringComparison.Ordinal);
        Assert.Contains("• width: 'width' is 40; it must be a multiple of 16 between 32 and 256.", status, StringComparison.Ordinal);
        Assert.Empty(app.Engine.Steps);
    }

    static async Task<string> PhasesAsync(HeadlessChromium browser, string bar) =>
        (await browser.EvaluateAsync($"[...document.querySelectorAll('#{bar} [data-phase]')].map(e => e.dataset.phase).join(',')")).GetString()!;
}

/// <summary>The compare test measures a speed-up: it runs with no other test competing for the cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimedAlone
{
    public const string Name = "Timed browser runs, alone";
}
