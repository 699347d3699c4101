using Glance.Engine.Models.Flux;
using Glance.Engine.Models.Qwen;

namespace Glance.Engine.Training;

/// <summary>The modules a Glance adapter covers, by the names of the recipes in REFERENCE.md section 1.</summary>
public static class LoraTargetSets
{
    /// <summary>Attention, output projections, modulation and MLP outputs of every block, both streams (the Qwen-Image recipe's coverage, in BFL paths).</summary>
    public const string Broad = "broad";

    /// <summary>The FLUX.1-dev recipe: to_q, to_k, to_v, to_out.0 only (image-stream attention of the double blocks, q/k/v of the single blocks), in diffusers names.</summary>
    public const string Attention = "attention";

    public static IReadOnlyList<string> Names { get; } = [Broad, Attention];

    static readonly string[] DoubleBlockAttention = ["to_q", "to_k", "to_v", "to_out.0"];
    static readonly string[] SingleBlockAttention = ["to_q", "to_k", "to_v"];

    public static IReadOnlyList<string> Named(string name, FluxConfig config) => name switch
    {
        Broad => BroadTargets(config),
        Attention => AttentionTargets(config),
        _ => throw new ArgumentException($"Unknown adapter target set '{name}'; expected one of {string.Join(", ", Names)}.", nameof(name)),
    };

    public static IReadOnlyList<string> BroadTargets(FluxConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var targets = new List<string>();
        for (int i = 0; i < config.Depth; i++)
        {
            foreach (string stream in new[] { "img", "txt" })
            {
                targets.Add($"double_blocks.{i}.{stream}_attn.qkv");
                targets.Add($"double_blocks.{i}.{stream}_attn.proj");
                targets.Add($"double_blocks.{i}.{stream}_mlp.2");
                targets.Add($"double_blocks.{i}.{stream}_mod.lin");
            }
        }
        for (int i = 0; i < config.DepthSingleBlocks; i++)
        {
            targets.Add($"single_blocks.{i}.linear1");
            targets.Add($"single_blocks.{i}.linear2");
            targets.Add($"single_blocks.{i}.modulation.lin");
        }
        return targets;
    }

    // diffusers names on purpose: to_q/to_k/to_v are row blocks of BFL's fused qkv and linear1, and the saved
    // file then reads like the reference FLUX adapters.
    public static IReadOnlyList<string> AttentionTargets(FluxConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var targets = new List<string>();
        for (int i = 0; i < config.Depth; i++)
            targets.AddRange(DoubleBlockAttention.Select(module => $"transformer_blocks.{i}.attn.{module}"));
        for (int i = 0; i < config.DepthSingleBlocks; i++)
            targets.AddRange(SingleBlockAttention.Select(module => $"single_transformer_blocks.{i}.attn.{module}"));
        return targets;
    }

    static readonly string[] QwenAttention = ["attn.to_q", "attn.to_k", "attn.to_v", "attn.add_q_proj", "attn.add_k_proj", "attn.add_v_proj", "attn.to_out.0", "attn.to_add_out"];
    static readonly string[] QwenBroadExtra = ["img_mlp.net.2", "img_mod.1", "txt_mlp.net.2", "txt_mod.1"];

    /// <summary>
    /// Qwen-Image's sets in diffusers names: attention is both streams' q/k/v and output projections; broad (the published
    /// recipe) adds the modulation and MLP output Linears of both streams.
    /// </summary>
    public static IReadOnlyList<string> Named(string name, QwenImageConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        string[] modules = name switch
        {
            Broad => [.. QwenAttention, .. QwenBroadExtra],
            Attention => QwenAttention,
            _ => throw new ArgumentException($"Unknown adapter target set '{name}'; expected one of {string.Join(", ", Names)}.", nameof(name)),
        };
        return [.. Enumerable.Range(0, config.NumLayers).SelectMany(i => modules.Select(module => $"transformer_blocks.{i}.{module}"))];
    }
}
