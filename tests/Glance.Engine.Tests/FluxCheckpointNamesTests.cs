using Glance.Engine.Checkpoints;
using Glance.Engine.Lora;
using Glance.Engine.Models;
using Glance.Engine.Models.Flux;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

public class FluxCheckpointNamesTests
{
    static readonly FluxConfig Tiny = ModelRegistry.Get("tiny");
    const int Hidden = 32;
    const int MlpHidden = 128;

    static Dictionary<string, Tensor> TinyStateDict()
    {
        using var model = SeededWeights.Redraw(new FluxTransformer(Tiny), seed: 99);
        return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone(), StringComparer.Ordinal);
    }

    [Fact]
    public void DiffusersRoundTripRestoresEveryTensor()
    {
        using var scope = NewDisposeScope();
        var original = TinyStateDict();

        var diffusers = FluxCheckpointNames.ToDiffusers(original, Tiny);
        Assert.Equal(FluxCheckpointLayout.Diffusers, FluxCheckpointNames.DetectLayout(diffusers.Keys));
        var restored = FluxCheckpointNames.ToBfl(diffusers, Tiny, "tiny-diffusers.safetensors");

        Assert.Equal(original.Keys.Order(StringComparer.Ordinal), restored.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, tensor) in original)
        {
            Assert.Equal(tensor.shape, restored[key].shape);
            Assert.True(tensor.eq(restored[key]).all().item<bool>(), key);
        }
    }

    [Fact]
    public void DiffusersNamesFollowTheDiffusersModel()
    {
        using var scope = NewDisposeScope();
        var diffusers = FluxCheckpointNames.ToDiffusers(TinyStateDict(), Tiny);
        string[] samples =
        [
            "x_embedder.weight", "context_embedder.bias", "time_text_embed.timestep_embedder.linear_1.weight",
            "time_text_embed.guidance_embedder.linear_2.bias", "time_text_embed.text_embedder.linear_1.weight",
            "transformer_blocks.0.attn.to_q.weight", "transformer_blocks.0.attn.add_v_proj.bias",
            "transformer_blocks.0.attn.to_out.0.weight", "transformer_blocks.0.attn.to_add_out.weight",
            "transformer_blocks.0.attn.norm_added_k.weight", "transformer_blocks.0.norm1_context.linear.weight",
            "transformer_blocks.0.ff.net.0.proj.weight", "transformer_blocks.0.ff_context.net.2.bias",
            "single_transformer_blocks.0.proj_mlp.weight", "single_transformer_blocks.0.proj_out.weight",
            "single_transformer_blocks.0.norm.linear.bias", "single_transformer_blocks.0.attn.norm_k.weight",
            "proj_out.weight", "norm_out.linear.weight",
        ];
        foreach (string key in samples) Assert.True(diffusers.ContainsKey(key), key);
        Assert.Equal(new long[] { MlpHidden, Hidden }, diffusers["single_transformer_blocks.0.proj_mlp.weight"].shape);
    }

    [Fact]
    public void DiffusersToKIsTheMiddleThirdOfQkv()
    {
        using var scope = NewDisposeScope();
        var bfl = TinyStateDict();
        var diffusers = FluxCheckpointNames.ToDiffusers(bfl, Tiny);

        Assert.Equal(new ModuleSlice("double_blocks.0.img_attn.qkv", Hidden, Hidden),
            FluxCheckpointNames.MapDiffusersModule("transformer.transformer_blocks.0.attn.to_k", Tiny));
        var qkv = bfl["double_blocks.0.img_attn.qkv.weight"];
        Assert.True(diffusers["transformer_blocks.0.attn.to_k.weight"].eq(qkv.narrow(0, Hidden, Hidden)).all().item<bool>());
    }

    public static TheoryData<string, string, long, long?> ModuleMappings => new()
    {
        { "transformer_blocks.0.attn.to_q", "double_blocks.0.img_attn.qkv", 0, Hidden },
        { "transformer_blocks.0.attn.add_v_proj", "double_blocks.0.txt_attn.qkv", 2 * Hidden, Hidden },
        { "transformer_blocks.0.attn.to_out.0", "double_blocks.0.img_attn.proj", 0, null },
        { "transformer_blocks.0.attn.to_add_out", "double_blocks.0.txt_attn.proj", 0, null },
        { "transformer_blocks.0.norm1.linear", "double_blocks.0.img_mod.lin", 0, null },
        { "transformer_blocks.0.ff_context.net.0.proj", "double_blocks.0.txt_mlp.0", 0, null },
        { "transformer_blocks.0.attn.norm_added_q", "double_blocks.0.txt_attn.norm.query_norm", 0, null },
        { "single_transformer_blocks.0.attn.to_v", "single_blocks.0.linear1", 2 * Hidden, Hidden },
        { "single_transformer_blocks.0.proj_mlp", "single_blocks.0.linear1", 3 * Hidden, MlpHidden },
        { "single_transformer_blocks.0.proj_out", "single_blocks.0.linear2", 0, null },
        { "single_transformer_blocks.0.norm.linear", "single_blocks.0.modulation.lin", 0, null },
        { "time_text_embed.guidance_embedder.linear_1", "guidance_in.in_layer", 0, null },
        { "transformer.context_embedder", "txt_in", 0, null },
        { "proj_out", "final_layer.linear", 0, null },
        { "norm_out.linear", "final_layer.adaLN_modulation.1", 0, null },
    };

    [Theory]
    [MemberData(nameof(ModuleMappings))]
    public void DiffusersModuleMapsToBflSlice(string diffusers, string bfl, long rowOffset, long? rows)
    {
        Assert.Equal(new ModuleSlice(bfl, rowOffset, rows), FluxCheckpointNames.MapDiffusersModule(diffusers, Tiny));
    }

    [Fact]
    public void UnknownOrOutOfRangeModuleMapsToNothing()
    {
        Assert.Null(FluxCheckpointNames.MapDiffusersModule("transformer_blocks.5.attn.to_q", Tiny));
        Assert.Null(FluxCheckpointNames.MapDiffusersModule("double_blocks.0.img_attn.qkv", Tiny));
        Assert.Null(FluxCheckpointNames.MapDiffusersModule("time_text_embed.guidance_embedder.linear_1", Tiny with { GuidanceEmbed = false }));
    }

    [Fact]
    public void NormOutHalvesAreSwapped()
    {
        using var scope = NewDisposeScope();
        var bfl = TinyStateDict();
        var diffusers = FluxCheckpointNames.ToDiffusers(bfl, Tiny);
        var adaLn = bfl["final_layer.adaLN_modulation.1.bias"];
        var normOut = diffusers["norm_out.linear.bias"];
        Assert.True(normOut.narrow(0, 0, Hidden).eq(adaLn.narrow(0, Hidden, Hidden)).all().item<bool>());
        Assert.True(normOut.narrow(0, Hidden, Hidden).eq(adaLn.narrow(0, 0, Hidden)).all().item<bool>());
        Assert.True(FluxCheckpointNames.HasSwappedHalves("transformer.norm_out.linear"));
        Assert.False(FluxCheckpointNames.HasSwappedHalves("proj_out"));
    }

    [Fact]
    public void ComfyUiPrefixIsStripped()
    {
        using var scope = NewDisposeScope();
        var bfl = TinyStateDict();
        var comfy = bfl.ToDictionary(kv => FluxCheckpointNames.ComfyUiPrefix + kv.Key, kv => kv.Value);
        Assert.Equal(FluxCheckpointLayout.ComfyUi, FluxCheckpointNames.DetectLayout(comfy.Keys));
        var renamed = FluxCheckpointNames.ToBfl(comfy, Tiny, "comfy.safetensors");
        Assert.Equal(bfl.Keys.Order(StringComparer.Ordinal), renamed.Keys.Order(StringComparer.Ordinal));
        Assert.Same(bfl["img_in.weight"], renamed["img_in.weight"]);
    }

    [Fact]
    public void UnknownKeyThrowsNamingKeyAndFile()
    {
        using var scope = NewDisposeScope();
        var bfl = TinyStateDict();
        bfl["double_blocks.0.img_attn.rogue.weight"] = zeros(1);
        var error = Assert.Throws<InvalidDataException>(() => FluxCheckpointNames.ToBfl(bfl, Tiny, "odd.safetensors"));
        Assert.Contains("'double_blocks.0.img_attn.rogue.weight'", error.Message, StringComparison.Ordinal);
        Assert.Contains("odd.safetensors", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingDiffusersPieceThrowsNamingKeyAndFile()
    {
        using var scope = NewDisposeScope();
        var diffusers = FluxCheckpointNames.ToDiffusers(TinyStateDict(), Tiny);
        diffusers.Remove("single_transformer_blocks.0.attn.to_k.bias");
        var error = Assert.Throws<InvalidDataException>(() => FluxCheckpointNames.ToBfl(diffusers, Tiny, "partial.safetensors"));
        Assert.Contains("'single_transformer_blocks.0.attn.to_k.bias'", error.Message, StringComparison.Ordinal);
        Assert.Contains("partial.safetensors", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingBflKeyThrowsNamingKeyAndFile()
    {
        using var scope = NewDisposeScope();
        var bfl = TinyStateDict();
        bfl.Remove("guidance_in.out_layer.bias");
        var error = Assert.Throws<InvalidDataException>(() => FluxCheckpointNames.ToBfl(bfl, Tiny, "dev.safetensors"));
        Assert.Contains("'guidance_in.out_layer.bias'", error.Message, StringComparison.Ordinal);
        Assert.Contains("dev.safetensors", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadedDiffusersCheckpointReproducesTheModel()
    {
        using var scope = NewDisposeScope();
        var bfl = TinyStateDict();
        var diffusers = FluxCheckpointNames.ToDiffusers(bfl, Tiny);
        using var model = new FluxTransformer(Tiny); // every weight is overwritten by the strict load
        var (missing, unexpected) = model.load_state_dict(FluxCheckpointNames.ToBfl(diffusers, Tiny, "tiny.safetensors"), strict: true);
        Assert.Empty(missing);
        Assert.Empty(unexpected);
        var loaded = model.state_dict();
        foreach (var (key, tensor) in bfl) Assert.True(tensor.eq(loaded[key]).all().item<bool>(), key);
    }
}
