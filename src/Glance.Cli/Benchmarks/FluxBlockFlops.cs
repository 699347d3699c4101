using Glance.Engine.Models.Flux;

namespace Glance.Cli.Benchmarks;

/// <summary>
/// Floating-point operations of one FLUX.1 block forward, counted from shapes alone (matmuls only):
/// <list type="bullet">
/// <item>every Linear: 2 * tokens * in * out (one multiply and one add per weight per token); the modulation Linear
/// reads one vector per sample, so its tokens are 1;</item>
/// <item>attention: 2 * 2 * heads * L^2 * headDim (QK^T and softmax(.)V, each L x L x headDim multiply-adds per head),
/// over the joint sequence L = text tokens + image tokens.</item>
/// </list>
/// All of it times the batch. Elementwise work (LayerNorm, RMSNorm, RoPE, softmax, GELU, modulation, residuals) is
/// left out: it is a few percent of the operations, and leaving it out makes GFLOP/s comparable to a plain matmul's.
/// </summary>
public static class FluxBlockFlops
{
    public static long Linear(long tokens, long inFeatures, long outFeatures) => 2 * tokens * inFeatures * outFeatures;

    public static long Attention(long length, long heads, long headDim) => 2 * 2 * heads * length * length * headDim;

    /// <summary>
    /// Per stream (image, then text, each with its own weights): modulation H -> 6H on one vector, qkv H -> 3H, proj
    /// H -> H, MLP H -> M -> H over the stream's tokens; plus joint attention over both streams.
    /// </summary>
    public static long DoubleBlock(FluxConfig config, long batch, long imageTokens, long textTokens)
    {
        ArgumentNullException.ThrowIfNull(config);
        long h = config.HiddenSize, m = config.MlpHiddenSize;
        long Stream(long tokens) =>
            Linear(1, h, 6 * h) + Linear(tokens, h, 3 * h) + Linear(tokens, h, h) + Linear(tokens, h, m) + Linear(tokens, m, h);
        return batch * (Stream(imageTokens) + Stream(textTokens) + Attention(imageTokens + textTokens, config.NumHeads, config.HeadDim));
    }

    /// <summary>
    /// Over the joint sequence: modulation H -> 3H on one vector, linear1 H -> 3H + M (q, k, v and MLP input),
    /// attention, linear2 H + M -> H (attention output and activated MLP, fused).
    /// </summary>
    public static long SingleBlock(FluxConfig config, long batch, long imageTokens, long textTokens)
    {
        ArgumentNullException.ThrowIfNull(config);
        long h = config.HiddenSize, m = config.MlpHiddenSize, length = imageTokens + textTokens;
        return batch * (Linear(1, h, 3 * h) + Linear(length, h, 3 * h + m)
            + Attention(length, config.NumHeads, config.HeadDim) + Linear(length, h + m, h));
    }
}
