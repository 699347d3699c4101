using System.CommandLine;
using System.Text.Json;
using Glance.Cli.Commands;
using Glance.Engine.Checkpoints;
using Glance.Engine.Tests.Reference;
using TorchSharp;
using static TorchSharp.torch;
using static Glance.Engine.Tests.Snapshots.SnapshotAssertions;

namespace Glance.Engine.Tests.Snapshots;

/// <summary>
/// `glance inspect` and `run-component` on a tiny Qwen-Image snapshot. run-component's output of every network equals an
/// independent float64 computation read straight from the snapshot's own files (the released text-encoder keys, diffusers
/// keys for the transformer and the VAE), so the loaders' key rules and the vision-tower skip are checked with the forwards.
/// </summary>
public sealed class QwenImageCommandTests : IClassFixture<QwenImageCommandTests.Snapshot>
{
    readonly Snapshot _snapshot;

    public QwenImageCommandTests(Snapshot snapshot) => _snapshot = snapshot;

    public sealed class Snapshot : IDisposable
    {
        public Snapshot()
        {
            using var builder = QwenImageSnapshotBuilder.Create();
            builder.Write(Folder);
            Parameters = new Dictionary<string, long>
            {
                ["transformer"] = builder.Transformer.parameters().Sum(p => p.numel()),
                ["vae"] = builder.Autoencoder.parameters().Sum(p => p.numel()),
                ["text_encoder"] = builder.TextEncoder.parameters().Sum(p => p.numel()),
            };
        }

        public string Root { get; } = Path.Combine(Path.GetTempPath(), "glance-qwen-commands-" + Guid.NewGuid().ToString("N"));
        public string Folder => Path.Combine(Root, "Qwen-Image");
        public IReadOnlyDictionary<string, long> Parameters { get; }
        public string File(string name) => Path.Combine(Root, name);

        public void Dispose()
        {
            if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
        }
    }

    Dictionary<string, Tensor> RunComponent(string component, Dictionary<string, Tensor> inputs)
    {
        string input = _snapshot.File(component + "-in.safetensors"), output = _snapshot.File(component + "-out.safetensors");
        SafetensorsFile.Write(input, [.. inputs]);
        Run(RunComponentCommand.Create(), "--model", _snapshot.Folder, "--component", component, "--inputs", input, "--out", output, "--device", "cpu", "--dtype", "float32");
        return SafetensorsFile.Read(output).Tensors.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
    }

    [Fact]
    public void InspectCountsTheLanguageModelWithoutTheVisionTowerAndPlacesTheTextEncoderApart()
    {
        using var json = JsonDocument.Parse(Run(InspectCommand.Create(), _snapshot.Folder, "--device", "cuda", "--text-encoder-device", "cpu", "--dtype", "bfloat16", "--json"));
        var components = json.RootElement.GetProperty("components").EnumerateArray().ToDictionary(
            c => c.GetProperty("name").GetString()!, c => c.GetProperty("parameters").GetInt64());
        var devices = json.RootElement.GetProperty("devices").EnumerateObject().ToDictionary(d => d.Name, d => d.Value.GetInt64());

        Assert.Equal(_snapshot.Parameters, components);
        Assert.Equal("qwen-image", json.RootElement.GetProperty("family").GetString());
        Assert.Equal((_snapshot.Parameters["transformer"] + _snapshot.Parameters["vae"]) * 2, devices["cuda"]);
        Assert.Equal(_snapshot.Parameters["text_encoder"] * 2, devices["cpu"]);
    }

    [Fact]
    public void TransformerOutputEqualsTheIndependentForwardWithTheTextMask()
    {
        var config = QwenImageSnapshotBuilder.TransformerConfig;
        using var scope = NewDisposeScope();
        using var generator = new Generator(3, CPU);
        int h = 3, w = 4, text = 5;
        var img = randn([1, h * w, config.InChannels], generator: generator);
        var txt = randn([1, text, config.JointAttentionDim], generator: generator);
        var mask = tensor(new long[] { 1, 1, 1, 0, 0 }, [1, text]);
        var outputs = RunComponent("transformer", new()
        {
            ["hidden_states"] = img, ["encoder_hidden_states"] = txt, ["encoder_hidden_states_mask"] = mask,
            ["timestep"] = tensor(new[] { 0.6f }), ["img_shapes"] = tensor(new long[] { 1, h, w }),
        });

        var reference = new QwenImageReference(ReadAll(Path.Combine(_snapshot.Folder, "transformer", "diffusion_pytorch_model.safetensors.index.json")),
            config.NumAttentionHeads, config.AttentionHeadDim, config.AxesDimsRope);
        var expected = reference.Forward(TensorRows.Of(img[0]), TensorRows.Of(txt[0]), [true, true, true, false, false], 0.6, h, w);
        AssertClose(expected.SelectMany(r => r), Values(outputs["sample"]), 1e-4);
    }

    [Fact]
    public void TextEncoderOutputEqualsTheIndependentForwardOnTheReleasedKeysOverFiveShards()
    {
        var text = QwenImageSnapshotBuilder.TextConfig;
        long[] ids = [300, 7, 12, 515, 9, 44];
        var outputs = RunComponent("text-encoder", new() { ["input_ids"] = tensor(ids, [1, ids.Length]) });

        var weights = ReadAll(Path.Combine(_snapshot.Folder, "text_encoder", "model.safetensors.index.json"));
        var reference = new Qwen25TextReference(weights, text.NumHeads, text.NumKeyValueHeads, [1, 1, 2], text.RopeTheta, text.RmsNormEps);
        AssertClose(reference.Forward(ids).SelectMany(r => r!), Values(outputs["last_hidden_state"]), 1e-4);
    }

    [Fact]
    public void VaeDecoderTakesTheLatentsVaeDecodeReceivesAndEqualsTheIndependentCausalDecoder()
    {
        var ae = QwenImageSnapshotBuilder.AutoencoderConfig;
        using var generator = new Generator(5, CPU);
        var latents = randn([1, ae.ZDim, 1, 2, 2], generator: generator);
        var outputs = RunComponent("vae-decoder", new() { ["latents"] = latents });

        var reference = new QwenImageAutoencoderReference(ReadAll(Path.Combine(_snapshot.Folder, "vae", "diffusion_pytorch_model.safetensors")));
        var image = reference.Decode(new QwenImageAutoencoderReference.Frames(ae.ZDim, 1, 2, 2, Values(latents)));
        AssertClose(image.V, Values(outputs["sample"]), 1e-4);
    }
}
