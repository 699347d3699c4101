using System.Net;
using System.Net.Http.Json;
using Glance.Api.Tests.Infrastructure;
using Glance.Contracts;
using Glance.Engine.Checkpoints;
using Glance.Engine.Imaging;
using Glance.Engine.Runtime;
using Glance.Engine.Tests.Snapshots;
using Microsoft.AspNetCore.Mvc.Testing;
using static TorchSharp.torch;

namespace Glance.Api.Tests.RealEngine;

/// <summary>A tiny Qwen-Image snapshot in the Hugging Face layout and two adapter files without alpha, written once per test class.</summary>
public sealed class TinyQwenImageSnapshot : IDisposable
{
    public TinyQwenImageSnapshot()
    {
        using (var builder = QwenImageSnapshotBuilder.Create()) builder.Write(Path);
        Directory.CreateDirectory(Adapters);
        using var scope = NewDisposeScope();
        foreach (string phase in new[] { "slow", "fast" })
        {
            // The published Glance LoRAs' layout: PEFT names with the "transformer." prefix, no alpha in the header.
            var down = randn(4, QwenImageSnapshotBuilder.TextWidth).Times(0.1);
            var up = randn(QwenImageSnapshotBuilder.TextWidth, 4).Times(0.1);
            SafetensorsFile.Write(AdapterFile(phase),
            [
                new("transformer.transformer_blocks.0.attn.to_q.lora_A.weight", down),
                new("transformer.transformer_blocks.0.attn.to_q.lora_B.weight", up),
            ]);
        }
    }

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "glance-api-qwen-" + Guid.NewGuid().ToString("N"));

    string Adapters => Path + "-adapters";

    public string AdapterFile(string phase) => System.IO.Path.Combine(Adapters, $"glance-qwen-image-{phase}.safetensors");

    public void Dispose()
    {
        foreach (string folder in new[] { Path, Adapters })
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}

/// <summary>The service pointed at an unmodified (tiny) Qwen-Image snapshot folder with the Glance adapters, with the real engine.</summary>
public sealed class QwenImageSnapshotEndpointTests(TinyQwenImageSnapshot snapshot) : IClassFixture<TinyQwenImageSnapshot>
{
    WebApplicationFactory<Program> Service(string path) => new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
    {
        builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
        builder.UseSetting("Glance:Model:Name", "qwen-test");
        builder.UseSetting("Glance:Model:Path", path);
        builder.UseSetting("Glance:Model:Device", "cpu");
        builder.UseSetting("Glance:Model:Adapters:Slow", snapshot.AdapterFile("slow"));
        builder.UseSetting("Glance:Model:Adapters:Fast", snapshot.AdapterFile("fast"));
        builder.UseSetting("Glance:RateLimit:Enabled", "false");
    });

    [Fact]
    public async Task GeneratesPngsInGlanceModeWithBothAdaptersAndInBaseMode()
    {
        await using var factory = Service(snapshot.Path);
        using var client = factory.CreateClient();
        await Eventually.ReadyAsync(client, "the Qwen-Image snapshot engine to become ready", TimeSpan.FromSeconds(120));

        ServiceStatus? status = await client.GetFromJsonAsync<ServiceStatus>("/readyz");
        Assert.Null(status!.Note);

        foreach (var body in new object[]
        {
            new { prompt = "a red circle", seed = 3, width = 64, height = 64 },
            new { prompt = "a red circle", seed = 3, width = 64, height = 80, mode = "base", steps = 2, guidance = 4.0, negative_prompt = "blurry" },
        })
        {
            using var response = await client.PostAsJsonAsync(new Uri("/generate", UriKind.Relative), body);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var image = PngEncoding.Decode(new MemoryStream(await response.Content.ReadAsByteArrayAsync()));
            Assert.Equal(64, image.Width);
            Assert.True(image.Height is 64 or 80);
        }
    }

    [Fact]
    public async Task ASnapshotWithAMissingTextEncoderShardKeepsReadyzAt503NamingTheFile()
    {
        string broken = Path.Combine(Path.GetTempPath(), "glance-api-qwen-broken-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var builder = QwenImageSnapshotBuilder.Create()) builder.Write(broken);
            File.Delete(Path.Combine(broken, "text_encoder", "model-00004-of-00005.safetensors"));
            await using var factory = Service(broken);
            using var client = factory.CreateClient();

            string reason = await Eventually.FaultedAsync(client, TimeSpan.FromSeconds(60));

            Assert.Contains("model-00004-of-00005.safetensors", reason, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(broken)) Directory.Delete(broken, recursive: true);
        }
    }
}
