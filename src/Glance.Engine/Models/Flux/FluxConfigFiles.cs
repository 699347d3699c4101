using System.Text.RegularExpressions;
using Glance.Engine.Checkpoints;

namespace Glance.Engine.Models.Flux;

/// <summary>A <see cref="FluxConfig"/> from what a FLUX.1 download holds: diffusers' transformer/config.json, or a BFL single file's shapes.</summary>
public static partial class FluxConfigFiles
{
    /// <summary>Fixed in FLUX.1 and absent from its files: head size, RoPE axes and base, MLP ratio.</summary>
    public const int HeadDim = 128;
    public const double RopeTheta = 10_000;
    public const double MlpRatio = 4.0;
    static readonly int[] RopeAxes = [16, 56, 56];

    /// <summary>
    /// diffusers FluxTransformer2DModel's config; absent fields take that class's defaults (FLUX.1-dev's file has no
    /// axes_dims_rope and no out_channels). diffusers fixes the MLP ratio at 4, the RoPE base at 10000 and biases on q/k/v.
    /// </summary>
    public static FluxConfig FromDiffusers(string configPath)
    {
        var file = JsonConfigFile.Read(configPath);
        string? className = file.Text("_class_name", null);
        if (className is not (null or "FluxTransformer2DModel"))
            throw file.Unsupported("_class_name", className, "expected \"FluxTransformer2DModel\"");
        int patch = file.Whole("patch_size", 1);
        if (patch != 1) throw file.Unsupported("patch_size", patch, "supported: 1 (FLUX.1 packs 2x2 latent patches before the transformer)");
        int inChannels = file.Whole("in_channels", 64);
        int outChannels = file.Whole("out_channels", inChannels);
        if (outChannels != inChannels)
            throw file.Unsupported("out_channels", outChannels, $"supported: equal to in_channels ({inChannels}), as in FLUX.1");
        int headDim = file.Whole("attention_head_dim", HeadDim);
        int heads = file.Whole("num_attention_heads", 24);
        int[] axes = file.Integers("axes_dims_rope", RopeAxes)!;
        if (axes.Sum() != headDim)
            throw file.Unsupported("axes_dims_rope", axes, $"the RoPE axes must add up to attention_head_dim ({headDim})");
        var config = new FluxConfig(
            InChannels: inChannels,
            VecInDim: file.Whole("pooled_projection_dim", 768),
            ContextInDim: file.Whole("joint_attention_dim", 4096),
            HiddenSize: headDim * heads,
            MlpRatio: MlpRatio,
            NumHeads: heads,
            Depth: file.Whole("num_layers", 19),
            DepthSingleBlocks: file.Whole("num_single_layers", 38),
            AxesDim: axes,
            Theta: RopeTheta,
            QkvBias: true,
            GuidanceEmbed: file.Bool("guidance_embeds", false));
        return Validated(config, configPath);
    }

    /// <summary>
    /// A BFL (or ComfyUI-prefixed) FLUX.1 transformer file carries no config: widths, block counts, the guidance
    /// embedder and the qkv bias come from its tensor shapes; head size 128, RoPE axes [16, 56, 56] and base 10000 are
    /// the family's fixed values.
    /// </summary>
    public static FluxConfig FromBflShapes(IReadOnlyDictionary<string, long[]> shapes, string fileName)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        var byName = shapes.ToDictionary(kv => kv.Key.StartsWith(FluxCheckpointNames.ComfyUiPrefix, StringComparison.Ordinal)
            ? kv.Key[FluxCheckpointNames.ComfyUiPrefix.Length..] : kv.Key, kv => kv.Value, StringComparer.Ordinal);
        long[] Shape(string key, int rank) =>
            byName.TryGetValue(key, out var s) && s.Length == rank ? s
            : throw new InvalidDataException($"'{fileName}' is not a FLUX.1 transformer in BFL naming: key '{key}' is {(byName.TryGetValue(key, out var found) ? $"of shape [{string.Join(", ", found)}]" : "missing")}; expected a tensor of rank {rank}.");

        long[] img = Shape("img_in.weight", 2);
        int hidden = checked((int)img[0]);
        if (hidden % HeadDim != 0)
            throw new InvalidDataException($"'{fileName}': img_in.weight has {hidden} rows; a FLUX.1 width is a multiple of the head size {HeadDim}.");
        long[] mlp = Shape("double_blocks.0.img_mlp.0.weight", 2);
        var config = new FluxConfig(
            InChannels: checked((int)img[1]),
            VecInDim: checked((int)Shape("vector_in.in_layer.weight", 2)[1]),
            ContextInDim: checked((int)Shape("txt_in.weight", 2)[1]),
            HiddenSize: hidden,
            MlpRatio: (double)mlp[0] / hidden,
            NumHeads: hidden / HeadDim,
            Depth: BlockCount(byName.Keys, DoubleBlock()),
            DepthSingleBlocks: BlockCount(byName.Keys, SingleBlock()),
            AxesDim: [.. RopeAxes],
            Theta: RopeTheta,
            QkvBias: byName.ContainsKey("double_blocks.0.img_attn.qkv.bias"),
            GuidanceEmbed: byName.ContainsKey("guidance_in.in_layer.weight"));
        return Validated(config, fileName);
    }

    static int BlockCount(IEnumerable<string> keys, Regex block) =>
        keys.Select(k => block.Match(k)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + 1).DefaultIfEmpty(0).Max();

    static FluxConfig Validated(FluxConfig config, string source)
    {
        try
        {
            return config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{source}' describes a FLUX.1 transformer this engine cannot build: {e.Message}", e);
        }
    }

    [GeneratedRegex(@"^double_blocks\.(\d+)\.")]
    private static partial Regex DoubleBlock();

    [GeneratedRegex(@"^single_blocks\.(\d+)\.")]
    private static partial Regex SingleBlock();
}
