using Glance.Engine.Lora;
using Glance.Engine.Models.Qwen;
using Glance.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Qwen;

/// <summary>Adapters in the PEFT / diffusers layout of the published Glance Qwen-Image LoRAs, attached and routed per sample.</summary>
public sealed class QwenImageLoraTests : IDisposable
{
    const int Rank = 4;

    // Every linear layer of a block, by its diffusers module name.
    static readonly string[] BlockLinears =
    [
        "img_mod.1", "txt_mod.1",
        "attn.to_q", "attn.to_k", "attn.to_v", "attn.add_q_proj", "attn.add_k_proj", "attn.add_v_proj", "attn.to_out.0", "attn.to_add_out",
        "img_mlp.net.0.proj", "img_mlp.net.2", "txt_mlp.net.0.proj", "txt_mlp.net.2",
    ];

    readonly LoraTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    static IEnumerable<string> AdaptedModules(QwenImageConfig config) =>
        Enumerable.Range(0, config.NumLayers).SelectMany(b => BlockLinears.Select(m => $"transformer_blocks.{b}.{m}"));

    /// <summary>lora_A / lora_B for every block linear, no alpha anywhere (as published); returns the path.</summary>
    string WriteAdapter(string name, QwenImageTransformer model, string prefix, long seed)
    {
        var layers = LoraLayers.Of(model);
        using var generator = new Generator((ulong)seed, CPU);
        var tensors = new List<(string, Tensor)>();
        foreach (string module in AdaptedModules(model.Config))
        {
            var layer = layers[module];
            var down = randn([Rank, layer.InFeatures], generator: generator).DividedBy(Math.Sqrt(layer.InFeatures));
            var up = randn([layer.OutFeatures, Rank], generator: generator).Times(0.2);
            tensors.Add(($"{prefix}{module}.lora_A.weight", down));
            tensors.Add(($"{prefix}{module}.lora_B.weight", up));
        }
        return _files.Write(name, metadata: null, [.. tensors]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("transformer.")]
    public void PeftAdapterLandsOnEveryLinearOfEveryBlock(string prefix)
    {
        using var scope = NewDisposeScope();
        using var model = QwenTinyModel.Build();
        using var file = LoraFile.Read(WriteAdapter("glance.safetensors", model, prefix, seed: 3));
        Assert.True(file.AlphaDefaulted);

        LoraAttacher.Attach(model, "slow", file, QwenImageCheckpointNames.MapAdapterModule);

        var intended = AdaptedModules(model.Config).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(2 * 14, intended.Count);
        foreach (var (name, layer) in LoraLayers.Of(model))
        {
            var pieces = layer.PiecesOf("slow");
            if (!intended.Contains(name))
            {
                Assert.Empty(pieces);
                continue;
            }
            var piece = Assert.Single(pieces);
            Assert.Equal(prefix + name, piece.TargetName);
            Assert.Equal(0, piece.RowOffset);
            Assert.Equal(layer.OutFeatures, piece.Rows);
            // No alpha in the file: alpha defaults to the rank, scale 1.
            Assert.Equal(1.0, piece.Scale);
        }
    }

    [Fact]
    public void AdapterModuleNamesMapToTheModelsLinearLayers()
    {
        Assert.Equal(new ModuleSlice("transformer_blocks.7.attn.to_out.0"), QwenImageCheckpointNames.MapAdapterModule("transformer_blocks.7.attn.to_out.0"));
        Assert.Equal(new ModuleSlice("transformer_blocks.0.img_mlp.net.2"), QwenImageCheckpointNames.MapAdapterModule("transformer.transformer_blocks.0.img_mlp.net.2"));
        Assert.Equal(new ModuleSlice("norm_out.linear"), QwenImageCheckpointNames.MapAdapterModule("norm_out.linear"));
        Assert.Equal(new ModuleSlice("time_text_embed.timestep_embedder.linear_2"), QwenImageCheckpointNames.MapAdapterModule("time_text_embed.timestep_embedder.linear_2"));
        foreach (string module in new[] { "transformer_blocks.0.attn.norm_q", "transformer_blocks.0.attn.to_qkv", "transformer_blocks.0.img_mod", "txt_norm", "double_blocks.0.img_attn.qkv" })
            Assert.Null(QwenImageCheckpointNames.MapAdapterModule(module));
    }

    [Fact]
    public void AnAdapterModuleBeyondTheModelsBlocksFailsNamingTheKey()
    {
        using var scope = NewDisposeScope();
        using var model = QwenTinyModel.Build();
        var (down, up) = LoraTestFiles.RandomPair(Rank, model.Config.InnerDim, model.Config.InnerDim);
        string path = _files.Write("deep.safetensors", null,
            ("transformer.transformer_blocks.5.attn.to_q.lora_A.weight", down), ("transformer.transformer_blocks.5.attn.to_q.lora_B.weight", up));
        using var file = LoraFile.Read(path);
        var error = Assert.Throws<InvalidOperationException>(() => LoraAttacher.Attach(model, "deep", file, QwenImageCheckpointNames.MapAdapterModule));
        Assert.Contains("transformer.transformer_blocks.5.attn.to_q.lora_A.weight", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A batch whose rows use the Slow adapter, the Fast adapter and none gives each row what running it alone with its
    /// adapter gives; both with the low-rank path per row and with cached merged weights per run of rows.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PerSampleRoutingEqualsRunningEachSampleAlone(bool cacheMergedWeights)
    {
        using var scope = NewDisposeScope();
        using var model = QwenTinyModel.Build();
        using (var slow = LoraFile.Read(WriteAdapter("slow.safetensors", model, "transformer.", seed: 3)))
            LoraAttacher.Attach(model, "slow", slow, QwenImageCheckpointNames.MapAdapterModule);
        using (var fast = LoraFile.Read(WriteAdapter("fast.safetensors", model, "", seed: 4)))
            LoraAttacher.Attach(model, "fast", fast, QwenImageCheckpointNames.MapAdapterModule);
        foreach (var layer in LoraLayers.Of(model).Values) layer.CacheMergedWeights = cacheMergedWeights;

        using var _ = no_grad();
        var (img, txt) = QwenTinyModel.Inputs(3, 2, 3, 4);
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0 }, [3, 4]);
        var sigmas = tensor(new[] { 0.95f, 0.5f, 0.1f });
        string?[] adapters = ["slow", "fast", null];

        Tensor batched;
        using (model.Routing.Route(adapters, CPU))
            batched = model.Forward(img, txt, mask, sigmas, 2, 3);

        for (int b = 0; b < 3; b++)
        {
            Tensor alone, plain;
            using (model.Routing.Route([adapters[b]], CPU))
                alone = model.Forward(img[b..(b + 1)], txt[b..(b + 1)], mask[b..(b + 1)], sigmas[b..(b + 1)], 2, 3);
            plain = model.Forward(img[b..(b + 1)], txt[b..(b + 1)], mask[b..(b + 1)], sigmas[b..(b + 1)], 2, 3);
            Assert.True(alone.allclose(batched[b..(b + 1)], rtol: 0, atol: 1e-5), $"row {b} ({adapters[b] ?? "no adapter"})");
            // The adapters do change their rows, so the equality above is not the base model's.
            Assert.Equal(adapters[b] is null, plain.allclose(alone, rtol: 0, atol: 1e-3));
        }
    }
}
