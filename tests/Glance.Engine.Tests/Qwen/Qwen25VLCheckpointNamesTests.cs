using System.Text.Json.Nodes;
using Glance.Engine.Checkpoints;
using Glance.Engine.Models.Qwen;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Qwen;

/// <summary>
/// Both published key layouts of a Qwen2_5_VLForConditionalGeneration checkpoint, sharded like a Qwen-Image snapshot's
/// text_encoder/ folder (model-0000N-of-00005.safetensors and model.safetensors.index.json), load into the same module.
/// </summary>
public sealed class Qwen25VLCheckpointNamesTests : IDisposable
{
    const int Shards = 5;
    const string Format = "transformers Qwen2_5_VLForConditionalGeneration";

    readonly string _root = Directory.CreateTempSubdirectory("glance-qwen-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("model.embed_tokens.weight", "embed_tokens.weight")]
    [InlineData("model.language_model.embed_tokens.weight", "embed_tokens.weight")]
    [InlineData("model.norm.weight", "norm.weight")]
    [InlineData("model.language_model.norm.weight", "norm.weight")]
    [InlineData("model.layers.27.self_attn.q_proj.bias", "layers.27.self_attn.q_proj.bias")]
    [InlineData("model.language_model.layers.3.self_attn.o_proj.weight", "layers.3.self_attn.o_proj.weight")]
    [InlineData("model.layers.0.mlp.gate_proj.weight", "layers.0.mlp.gate_proj.weight")]
    [InlineData("model.language_model.layers.10.post_attention_layernorm.weight", "layers.10.post_attention_layernorm.weight")]
    public void BothLayoutsMapToTheModulesNames(string key, string target)
    {
        var placement = Assert.Single(Qwen25VLCheckpointNames.Map(key, [1])!);
        Assert.Equal(new TensorPlacement(target), placement);
    }

    [Theory]
    [InlineData("visual.blocks.0.attn.qkv.weight")]
    [InlineData("visual.merger.mlp.2.bias")]
    [InlineData("model.visual.patch_embed.proj.weight")]
    [InlineData("lm_head.weight")]
    public void TheVisionTowerAndTheOutputHeadAreSkipped(string key) => Assert.Empty(Qwen25VLCheckpointNames.Map(key, [1])!);

    [Theory]
    [InlineData("model.rotary_emb.inv_freq")]
    [InlineData("model.layers.0.self_attn.o_proj.bias")]
    [InlineData("model.layers.01.mlp.up_proj.weight")]
    [InlineData("model.language_model.visual.blocks.0.attn.qkv.weight")]
    [InlineData("embed_tokens.weight")]
    [InlineData("language_model.model.norm.weight")]
    public void OtherKeysAreUnknown(string key) => Assert.Null(Qwen25VLCheckpointNames.Map(key, [1]));

    /// <summary>Writes the model's weights under a prefix, with the extras a real file has, over five shards and an index.</summary>
    string WriteSnapshot(Qwen25VLTextModel model, string prefix, string visualPrefix, params (string Key, Tensor Value)[] more)
    {
        string folder = Directory.CreateDirectory(Path.Combine(_root, Guid.NewGuid().ToString("N"))).FullName;
        var tensors = TinyQwen.ReleasedKeys(model, prefix)
            .Append(new(visualPrefix + "blocks.0.attn.qkv.weight", randn(12, 4)))
            .Append(new(visualPrefix + "merger.mlp.2.bias", randn(32)))
            .Append(new("lm_head.weight", randn(64, 32)))
            .Concat(more.Select(m => new KeyValuePair<string, Tensor>(m.Key, m.Value)))
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .ToArray();
        var weightMap = new JsonObject();
        long totalSize = 0;
        for (int shard = 0; shard < Shards; shard++)
        {
            string file = $"model-{shard + 1:D5}-of-{Shards:D5}.safetensors";
            var part = tensors.Where((_, i) => i % Shards == shard).ToArray();
            SafetensorsFile.Write(Path.Combine(folder, file), part);
            foreach (var (key, value) in part)
            {
                weightMap[key] = file;
                totalSize += value.numel() * value.element_size();
            }
        }
        File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"),
            new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = totalSize }, ["weight_map"] = weightMap }.ToJsonString());
        return folder;
    }

    static Tensor Outputs(Qwen25VLTextModel model)
    {
        using var noGrad = no_grad();
        var ids = tensor(new long[] { 0, 0, 5, 9, 33, 61, 2, 7, 18, 40 }, [2, 5]);
        var mask = tensor(new long[] { 0, 0, 1, 1, 1, 1, 1, 1, 1, 1 }, [2, 5]);
        return model.Forward(ids, mask);
    }

    static bool Same(Tensor a, Tensor b)
    {
        using var difference = a.sub(b).abs().max();
        return difference.item<float>() == 0;
    }

    [Theory]
    [InlineData("model.", "visual.")]
    [InlineData("model.language_model.", "model.visual.")]
    public void AShardedSnapshotInEitherLayoutLoadsTheSameModel(string prefix, string visualPrefix)
    {
        using var scope = NewDisposeScope();
        using var original = TinyQwen.Model(seed: 51);
        string folder = WriteSnapshot(original, prefix, visualPrefix);
        using var loaded = TinyQwen.Model(seed: 52);
        Assert.False(Same(Outputs(loaded), Outputs(original)), "the two seeds must give different models for this test to mean anything");

        PlacedCheckpointLoader.Load(loaded, folder, Qwen25VLCheckpointNames.Map, Format);

        Assert.True(Same(Outputs(loaded), Outputs(original)), "the loaded model's outputs differ from the saved model's");
    }

    [Fact]
    public void AnUnknownKeyFailsNamingTheKeyAndTheFile()
    {
        using var scope = NewDisposeScope();
        using var model = TinyQwen.Model(seed: 53);
        // Sorted among the other keys, the unknown one lands in the shard that round-robin gives its position.
        string folder = WriteSnapshot(model, "model.", "visual.", ("model.rotary_emb.inv_freq", randn(4)));
        string index = File.ReadAllText(Path.Combine(folder, "model.safetensors.index.json"));
        string file = JsonNode.Parse(index)!["weight_map"]!["model.rotary_emb.inv_freq"]!.GetValue<string>();

        var e = Assert.Throws<InvalidDataException>(() => PlacedCheckpointLoader.Load(model, folder, Qwen25VLCheckpointNames.Map, Format));
        Assert.Contains($"'model.rotary_emb.inv_freq' (in '{file}')", e.Message, StringComparison.Ordinal);
    }
}
