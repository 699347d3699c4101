namespace Glance.Engine.Tests.Reference;

/// <summary>True classifier-free guidance for one token's feature vector, in float64 from the formula alone.</summary>
internal static class GuidanceReference
{
    /// <summary>comb = neg + scale (cond - neg); with the rescale, comb * ||cond|| / ||comb|| (Qwen-Image's sampler).</summary>
    public static double[] Combine(double[] cond, double[] neg, double scale, bool normRescale)
    {
        var comb = cond.Select((c, f) => neg[f] + scale * (c - neg[f])).ToArray();
        if (!normRescale) return comb;
        double ratio = Math.Sqrt(cond.Sum(v => v * v)) / Math.Sqrt(comb.Sum(v => v * v));
        return comb.Select(v => v * ratio).ToArray();
    }
}
