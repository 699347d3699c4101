using Glance.Api.Engine;
using Glance.Api.Options;
using Glance.Api.Tests.Infrastructure;
using Glance.Engine.Pipeline;

namespace Glance.Api.Tests.Browser;

/// <summary>
/// The playground's training panel in headless Chromium over the shipped glance-mini: a set trained from the model's own
/// training image, followed to the end, then chosen for the next image.
/// </summary>
public sealed class PlaygroundTrainingTests : IDisposable
{
    static readonly TimeSpan PageTimeout = TimeSpan.FromSeconds(90);
    readonly string _registry = Path.Combine(Path.GetTempPath(), "glance-playground-training-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_registry)) Directory.Delete(_registry, recursive: true);
    }

    [ChromiumFact]
    public async Task ASetTrainedFromTheBrowserIsChosenForTheNextImage()
    {
        await using var app = new GlanceApp(
            settings: new Dictionary<string, string?> { ["Glance:Adapters:Path"] = _registry, ["Glance:Adapters:RescanSeconds"] = "1" },
            engineFactory: new TorchEngineFactory(Microsoft.Extensions.Options.Options.Create(new ModelOptions { Device = "cpu" })));
        Uri server = app.StartKestrel();
        await Eventually.ReadyAsync(app.CreateClient(), "glance-mini to become ready", TimeSpan.FromSeconds(90));
        await using HeadlessChromium browser = await HeadlessChromium.LaunchAsync();
        string png = Convert.ToBase64String(await File.ReadAllBytesAsync(
            Path.Combine(ModelLocator.Resolve(ModelLocator.DefaultModel), "lora-pair", "train_000000.png")));

        await browser.NavigateAsync(server);
        await browser.WaitForAsync("document.getElementById('examples')?.options.length > 0", "the model's example prompts", PageTimeout);
        await browser.EvaluateAsync($$"""
            const bytes = Uint8Array.from(atob('{{png}}'), c => c.charCodeAt(0));
            const files = new DataTransfer();
            files.items.add(new File([bytes], 'pair.png', { type: 'image/png' }));
            document.getElementById('trainImage').files = files.files;
            document.getElementById('trainName').value = 'from-page';
            document.getElementById('trainCaption').value = 'a small red circle at the center on a black background';
            document.getElementById('trainSteps').value = '3';
            document.getElementById('train').click();
            """);
        await browser.WaitForAsync("document.getElementById('trainStatus').dataset.done === 'from-page' || document.getElementById('trainStatus').className === 'error'",
            "the training job to end", PageTimeout);

        string status = (await browser.EvaluateAsync("document.getElementById('trainStatus').textContent")).GetString()!;
        Assert.StartsWith("Set from-page is trained and served", status, StringComparison.Ordinal);
        Assert.Equal("from-page", (await browser.EvaluateAsync("document.getElementById('adapters').value")).GetString());
        Assert.Contains("slow: rank 16", (await browser.EvaluateAsync("document.getElementById('adaptersHint').textContent")).GetString(), StringComparison.Ordinal);
        Assert.Equal(6, (await browser.EvaluateAsync("document.getElementById('trainProgress').value")).GetInt32());

        await browser.EvaluateAsync("document.getElementById('generate').click()");
        await browser.WaitForAsync("document.getElementById('status').textContent.startsWith('Seed')", "the image with the trained set", PageTimeout);
        Assert.Equal(64, (await browser.EvaluateAsync("document.getElementById('image').naturalWidth")).GetInt32());
    }
}
