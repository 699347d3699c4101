using System.CommandLine;
using System.Text.Json;
using Glance.Cli.Commands;
using Glance.Engine.Checkpoints;
using Glance.Engine.Models.Flux;
using Glance.Engine.Tests.Reference;
using TorchSharp;
using static TorchSharp.torch;
using static Glance.Engine.Tests.Snapshots.SnapshotAssertions;

namespace Glance.Engine.Tests.Snapshots;

/// <summary>
/// `glance inspect`, `tokenize` and `run-component` on a tiny FLUX.1-dev snapshot. run-component's output of every
/// network equals an independent float64 computation read straight from the snapshot's own files (BFL keys for the
/// transformer, transformers keys for CLIP and T5, diffusers keys for the VAE), so the loaders' renaming, fusing and
/// skipping are checked along with the forward passes.
/// </summary>
public sealed class SnapshotCommandTests : IClassFixture<SnapshotCommandTests.Snapshots>
{
    readonly Snapshots _snapshots;

    public SnapshotCommandTests(Snapshots snapshots) => _snapshots = snapshots;

    /// <summary>The same weights written twice: diffusers layout (the model under test) and BFL single files (the reference's transformer).</summary>
    public sealed class Snapshots : IDisposable
    {
        public Snapshots()
        {
            using var builder = FluxSnapshotBuilder.Create(FluxVariant.Dev);
            builder.Write(Diffusers);
            builder.Write(Bfl, FluxWeightsLayout.BflSingleFiles);
            Parameters = new Dictionary<string, long>
            {
                ["transformer"] = Count(builder.Model.Transformer),
                ["vae"] = Count(builder.Model.Autoencoder),
                ["clip"] = Count(builder.Model.PooledTextEncoder!),
                ["t5"] = Count(builder.Model.TextEncoder),
            };
        }

        static long Count(nn.Module module) => module.parameters().Sum(p => p.numel());

        public string Root { get; } = Path.Combine(Path.GetTempPath(), "glance-snapshot-commands-" + Guid.NewGuid().ToString("N"));
        public string Diffusers => Path.Combine(Root, "FLUX.1-dev");
        public string Bfl => Path.Combine(Root, "bfl");
        public IReadOnlyDictionary<string, long> Parameters { get; }
        public string File(string name) => Path.Combine(Root, name);

        public void Dispose()
        {
            if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
        }
    }

    Dictionary<string, Tensor> RunComponent(string component, Dictionary<string, Tensor> inputs)
    {
        string input = _snapshots.File(component + "-in.safetensors"), output = _snapshots.File(component + "-out.safetensors");
        SafetensorsFile.Write(input, [.. inputs]);
        Run(RunComponentCommand.Create(), "--model", _snapshots.Diffusers, "--component", component, "--inputs", input, "--out", output, "--device", "cpu", "--dtype", "float32");
        return SafetensorsFile.Read(output).Tensors.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
    }

    [Fact]
    public void InspectCountsEveryNetworksParametersFromTheHeadersAlone()
    {
        using var json = JsonDocument.Parse(Run(InspectCommand.Create(), _snapshots.Diffusers, "--json"));
        var components = json.RootElement.GetProperty("components").EnumerateArray().ToDictionary(
            c => c.GetProperty("name").GetString()!, c => c.GetProperty("parameters").GetInt64());

        Assert.Equal(_snapshots.Parameters, components);
        Assert.Contains("FLUX.1 Hugging Face snapshot (diffusers)", json.RootElement.GetProperty("format").GetString(), StringComparison.Ordinal);
        Assert.Equal(_snapshots.Parameters.Values.Sum() * 2, json.RootElement.GetProperty("deviceBytes").GetInt64());
    }

    [Fact]
    public void InspectSplitsTheMemoryBetweenTheModelsDeviceAndTheTextEncoders()
    {
        using var json = JsonDocument.Parse(Run(InspectCommand.Create(), _snapshots.Diffusers, "--device", "cuda", "--text-encoder-device", "cpu", "--dtype", "float32", "--json"));
        var devices = json.RootElement.GetProperty("devices").EnumerateObject().ToDictionary(d => d.Name, d => d.Value.GetInt64());

        Assert.Equal((_snapshots.Parameters["transformer"] + _snapshots.Parameters["vae"]) * 4, devices["cuda"]);
        Assert.Equal((_snapshots.Parameters["clip"] + _snapshots.Parameters["t5"]) * 4, devices["cpu"]);
    }

    [Fact]
    public void TokenizeShowsClipIdsPaddedTo77WithEndOfTextAndWhetherTheTextWasCut()
    {
        using var vocabulary = JsonDocument.Parse(System.IO.File.ReadAllText(Path.Combine(_snapshots.Diffusers, "tokenizer", "vocab.json")));
        long bos = vocabulary.RootElement.GetProperty("<|startoftext|>").GetInt64(), eos = vocabulary.RootElement.GetProperty("<|endoftext|>").GetInt64();

        using var shortText = JsonDocument.Parse(Run(TokenizeCommand.Create(), "--model", _snapshots.Diffusers, "--encoder", "clip", "--text", "a cliff", "--json"));
        var ids = shortText.RootElement.GetProperty("ids").EnumerateArray().Select(i => i.GetInt64()).ToArray();
        Assert.Equal(77, ids.Length);
        Assert.Equal(bos, ids[0]);
        Assert.False(shortText.RootElement.GetProperty("truncated").GetBoolean());
        int end = Array.IndexOf(ids, eos);
        Assert.True(end > 1);
        Assert.All(ids[end..], id => Assert.Equal(eos, id));

        using var longText = JsonDocument.Parse(Run(TokenizeCommand.Create(), "--model", _snapshots.Diffusers, "--encoder", "clip", "--text", string.Concat(Enumerable.Repeat("a cliff ", 60)), "--json"));
        var cut = longText.RootElement.GetProperty("ids").EnumerateArray().Select(i => i.GetInt64()).ToArray();
        Assert.True(longText.RootElement.GetProperty("truncated").GetBoolean());
        Assert.Equal((77, bos, eos), (cut.Length, cut[0], cut[^1]));
        Assert.DoesNotContain(eos, cut[..^1]);

        using var t5 = JsonDocument.Parse(Run(TokenizeCommand.Create(), "--model", _snapshots.Diffusers, "--encoder", "t5", "--text", "a cliff", "--json"));
        var t5Ids = t5.RootElement.GetProperty("ids").EnumerateArray().Select(i => i.GetInt64()).ToArray();
        Assert.Equal(512, t5Ids.Length);
        Assert.Equal(1, t5Ids[t5.RootElement.GetProperty("tokens").GetInt32() - 1]);
        Assert.All(t5Ids[t5.RootElement.GetProperty("tokens").GetInt32()..], id => Assert.Equal(0, id));
    }

    [Fact]
    public void TransformerOutputEqualsTheIndependentBflForwardOnTheSameFile()
    {
        var config = FluxSnapshotBuilder.TransformerConfig(FluxVariant.Dev);
        using var scope = NewDisposeScope();
        using var generator = new Generator(3, CPU);
        int grid = 4, tokens = grid * grid, text = 6;
        var img = randn([1, tokens, config.InChannels], generator: generator);
        var imgIds = tensor(Enumerable.Range(0, tokens).SelectMany(i => new float[] { 0, i / grid, i % grid }).ToArray(), [1, tokens, 3]);
        var txt = randn([1, text, config.ContextInDim], generator: generator);
        var txtIds = zeros(1, text, 3);
        var y = randn([1, config.VecInDim], generator: generator);
        var outputs = RunComponent("transformer", new()
        {
            ["img"] = img, ["img_ids"] = imgIds, ["txt"] = txt, ["txt_ids"] = txtIds,
            ["timesteps"] = tensor(new[] { 0.7f }), ["y"] = y, ["guidance"] = tensor(new[] { 3.5f }),
        });

        var reference = new FluxReference(ReadAll(Path.Combine(_snapshots.Bfl, "flux1-dev.safetensors")), config.HiddenSize, config.NumHeads, config.AxesDim, config.Theta);
        var expected = reference.Forward(TensorRows.Of(img[0]), TensorRows.Of(imgIds[0]), TensorRows.Of(txt[0]), TensorRows.Of(txtIds[0]), 0.7, Values(y[0]), 3.5);
        AssertClose(expected.SelectMany(r => r), Values(outputs["img"]), 1e-4);
    }

    [Fact]
    public void ClipOutputsEqualTheIndependentForwardPooledAtTheFirstEndOfText()
    {
        var clip = FluxSnapshotBuilder.ClipConfig;
        long[] ids = [.. new long[] { 300, 7, 12, 515 }, .. Enumerable.Repeat(515L, 4)];
        var outputs = RunComponent("clip", new() { ["input_ids"] = tensor(ids, [1, ids.Length]) });

        var reference = new ClipReference(ReadAll(Path.Combine(_snapshots.Diffusers, "text_encoder", "model.safetensors")),
            clip.NumAttentionHeads, clip.LayerNormEps, clip.HiddenAct, clip.EosTokenId);
        var (hidden, pooled, index) = reference.Forward(ids);
        Assert.Equal(3, index);
        AssertClose(hidden.SelectMany(r => r), Values(outputs["last_hidden_state"]), 1e-4);
        AssertClose(pooled, Values(outputs["pooler_output"]), 1e-4);
    }

    [Fact]
    public void T5OutputEqualsTheIndependentForwardOverBothShards()
    {
        var t5 = FluxSnapshotBuilder.T5Config;
        long[] ids = [37, 2001, 5, 1, 0, 0, 0, 0, 0, 0];
        var outputs = RunComponent("t5", new() { ["input_ids"] = tensor(ids, [1, ids.Length]) });

        var weights = ReadAll(Path.Combine(_snapshots.Diffusers, "text_encoder_2", "model.safetensors.index.json"));
        var reference = new T5Reference(weights, t5.NumHeads, t5.DKv, t5.RelativeAttentionNumBuckets, t5.RelativeAttentionMaxDistance, t5.LayerNormEpsilon);
        AssertClose(reference.Forward(ids).SelectMany(r => r), Values(outputs["last_hidden_state"]), 1e-4);
    }

    [Fact]
    public void VaeDecoderScalesTheLatentsThenEqualsTheIndependentDiffusersDecoder()
    {
        var ae = FluxSnapshotBuilder.AutoencoderConfig;
        using var generator = new Generator(5, CPU);
        var latents = randn([1, ae.ZChannels, 4, 4], generator: generator);
        var outputs = RunComponent("vae-decoder", new() { ["latents"] = latents });

        var reference = new AutoencoderReference(ReadAll(Path.Combine(_snapshots.Diffusers, "vae", "diffusion_pytorch_model.safetensors")));
        var unscaled = Values(latents).Select(z => z / ae.ScaleFactor + ae.ShiftFactor).ToArray();
        var image = reference.Decode(new AutoencoderReference.Planes(ae.ZChannels, 4, 4, unscaled));
        AssertClose(image.V, Values(outputs["sample"]), 1e-4);
    }
}
