using System.Text.Json.Nodes;
using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;

namespace Glance.Engine.Tests.Snapshots;

/// <summary>What a broken FLUX.1 snapshot says at start-up: one message naming the file, the field or key, the value found and what is supported.</summary>
public sealed class FluxSnapshotErrorTests : IClassFixture<FluxSnapshotErrorTests.Pristine>, IDisposable
{
    static readonly EngineOptions Cpu = new() { Device = "cpu", DType = "float32" };
    readonly string _root;

    /// <summary>One tiny schnell snapshot written once; each test breaks its own copy.</summary>
    public sealed class Pristine : IDisposable
    {
        public Pristine()
        {
            using var builder = FluxSnapshotBuilder.Create(FluxVariant.Schnell);
            builder.Write(Path);
        }

        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "glance-flux-pristine-" + Guid.NewGuid().ToString("N"));

        public void Dispose()
        {
            if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
        }
    }

    public FluxSnapshotErrorTests(Pristine pristine)
    {
        _root = Path.Combine(Path.GetTempPath(), "glance-flux-broken-" + Guid.NewGuid().ToString("N"));
        Copy(pristine.Path, _root);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (string folder in Directory.GetDirectories(from)) Copy(folder, Path.Combine(to, Path.GetFileName(folder)));
    }

    void EditJson(string relative, Action<JsonObject> edit)
    {
        string path = Path.Combine(_root, relative);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    Exception LoadFails()
    {
        var error = Record.Exception(() => GlanceModel.Load(_root, Cpu).Dispose());
        Assert.NotNull(error);
        return error;
    }

    static void AssertMentions(Exception error, params string[] parts)
    {
        foreach (string part in parts) Assert.Contains(part, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingShardIsNamedWithItsIndex()
    {
        File.Delete(Path.Combine(_root, "text_encoder_2", "model-00002-of-00002.safetensors"));
        var error = LoadFails();
        Assert.IsType<FileNotFoundException>(error);
        AssertMentions(error, "model-00002-of-00002.safetensors", "model.safetensors.index.json");
    }

    [Fact]
    public void AMissingComponentFolderIsNamed()
    {
        Directory.Delete(Path.Combine(_root, "tokenizer_2"), recursive: true);
        AssertMentions(LoadFails(), "tokenizer_2");
    }

    [Fact]
    public void ATruncatedWeightsFileIsNamed()
    {
        string vae = Path.Combine(_root, "vae", "diffusion_pytorch_model.safetensors");
        using (var stream = File.Open(vae, FileMode.Open)) stream.SetLength(stream.Length / 2);
        var error = LoadFails();
        Assert.IsType<InvalidDataException>(error);
        AssertMentions(error, vae);
    }

    [Fact]
    public void AShapeThatDisagreesWithTheConfigNamesTheKeyBothShapesAndTheFile()
    {
        EditJson("text_encoder/config.json", json => json["intermediate_size"] = 128);
        var error = LoadFails();
        AssertMentions(error, "text_model.encoder.layers.0.mlp.fc1.weight", "[64, 32]", "[128, 32]", "model.safetensors");
    }

    [Fact]
    public void WidthsThatDisagreeBetweenNetworksNameBothFiles()
    {
        EditJson("transformer/config.json", json => json["joint_attention_dim"] = 64);
        AssertMentions(LoadFails(), "joint_attention_dim", "64", "text_encoder_2", "32");
    }

    [Theory]
    [InlineData("vae/config.json", "use_quant_conv", true)]
    [InlineData("scheduler/scheduler_config.json", "use_karras_sigmas", true)]
    [InlineData("transformer/config.json", "patch_size", 2)]
    public void AnUnsupportedConfigValueNamesTheFileTheFieldAndTheValue(string file, string field, object value)
    {
        EditJson(file, json => json[field] = JsonValue.Create(value));
        var error = LoadFails();
        Assert.IsType<InvalidDataException>(error);
        AssertMentions(error, Path.GetFileName(file), field, value is bool b ? (b ? "true" : "false") : value.ToString()!);
    }

    [Fact]
    public void AnotherPipelineIsRefusedNamingIt()
    {
        EditJson("model_index.json", json => json["_class_name"] = "StableDiffusionXLPipeline");
        AssertMentions(LoadFails(), "StableDiffusionXLPipeline", "FluxPipeline", "model_index.json");
    }

    [Fact]
    public void AnUnexpectedKeyInAShardIsNamedWithItsFile()
    {
        // A key the model does not have, added to the last transformer shard and its index.
        string shard = Path.Combine(_root, "transformer", "diffusion_pytorch_model-00003-of-00003.safetensors");
        using (var file = Glance.Engine.Checkpoints.SafetensorsFile.Read(shard))
        {
            var tensors = file.Tensors.ToList();
            tensors.Add(new("transformer_blocks.0.attn.to_extra.weight", TorchSharp.torch.zeros(2, 2)));
            Glance.Engine.Checkpoints.SafetensorsFile.Write(shard, tensors);
        }
        EditJson("transformer/diffusion_pytorch_model.safetensors.index.json",
            json => json["weight_map"]!.AsObject()["transformer_blocks.0.attn.to_extra.weight"] = Path.GetFileName(shard));
        AssertMentions(LoadFails(), "transformer_blocks.0.attn.to_extra.weight", "diffusion_pytorch_model-00003-of-00003.safetensors");
    }
}
