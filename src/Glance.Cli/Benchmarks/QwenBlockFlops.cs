using Glance.Engine.Models.Qwen;

namespace Glance.Cli.Benchmarks;

/// <summary>
/// Matmul FLOPs of one Qwen-Image dual-stream block forward, counted from the architecture as <see cref="FluxBlockFlops"/>
/// counts FLUX.1's: per stream (image, then text, each with its own weights) the modulation Linear W -> 6W on one vector,
/// q, k, v and output projections W -> W, and the GELU MLP W -> 4W -> W over the stream's tokens; plus joint attention
/// (QK^T and AV) over text + image tokens. Norms, RoPE, softmax, GELU, modulation and residuals are left out.
/// </summary>
public static class QwenBlockFlops
{
    public static long Block(QwenImageConfig config, long batch, long imageTokens, long textTokens)
    {
        ArgumentNullException.ThrowIfNull(config);
        long w = config.InnerDim, m = config.MlpHiddenDim;
        long Stream(long tokens) =>
            FluxBlockFlops.Linear(1, w, 6 * w) + 4 * FluxBlockFlops.Linear(tokens, w, w)
            + FluxBlockFlops.Linear(tokens, w, m) + FluxBlockFlops.Linear(tokens, m, w);
        return batch * (Stream(imageTokens) + Stream(textTokens)
            + FluxBlockFlops.Attention(imageTokens + textTokens, config.NumAttentionHeads, config.AttentionHeadDim));
    }
}
