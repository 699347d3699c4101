using Glance.Engine.Runtime;
using Glance.Engine.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

public class EulerAndGuidanceTests
{
    [Fact]
    public void EulerMovesEachSampleByItsOwnSigmaIncrement()
    {
        using var scope = NewDisposeScope();
        var x = ones(2, 3, 4);
        var v = TensorArithmetic.Filled([2, 3, 4], 2.0, ScalarType.Float32, null);
        var next = EulerStep.Apply(x, v, tensor(new[] { 1.0f, 0.5f }), tensor(new[] { 0.75f, 0.0f }));
        Assert.Equal(ScalarType.Float32, next.dtype);
        Assert.Equal(0.5f, next[0].mean().item<float>(), 6);  // 1 + (0.75 - 1) * 2
        Assert.Equal(0.0f, next[1].mean().item<float>(), 6);  // 1 + (0 - 0.5) * 2
    }

    [Fact]
    public void EulerOverAFullPlanTurnsPureNoiseIntoTheTargetForExactVelocity()
    {
        // With the exact velocity v = noise - x0 of a straight path, Euler lands on x0 whatever the plan,
        // provided the increments add up to 1.
        using var scope = NewDisposeScope();
        var x0 = randn(1, 8, 4, generator: new Generator(1));
        var noise = randn(1, 8, 4, generator: new Generator(2));
        var x = noise.clone();
        foreach (var step in PlanBuilder.Glance(SamplerPresets.Flux.Schedule, 4096).Steps())
            x = EulerStep.Apply(x, noise.sub(x0), tensor(new[] { (float)step.Sigma }), tensor(new[] { (float)step.NextSigma }));
        Assert.True(x.allclose(x0, rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void GuidanceScaleOneReturnsConditional()
    {
        using var scope = NewDisposeScope();
        var cond = randn(2, 5, 6, generator: new Generator(3));
        var uncond = randn(2, 5, 6, generator: new Generator(4));
        var combined = Guidance.Combine(cond, uncond, tensor(new[] { 1.0f, 1.0f }), normRescale: false);
        Assert.True(combined.allclose(cond, atol: 1e-6));
    }

    /// <summary>
    /// comb = neg + s (cond - neg) per row with its own scale; with the rescale, comb * ||cond|| / ||comb|| over the
    /// feature dimension of each token (Qwen-Image's reference sampler). Expected values come from float64 loops over
    /// those formulas, not from the function under test.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GuidanceCombinesEachRowWithItsOwnScaleAsTheFormulaSays(bool normRescale)
    {
        using var scope = NewDisposeScope();
        const int rows = 2, tokens = 3, features = 4;
        double[] scales = [2.5, 7.0];
        double Cond(int b, int t, int f) => Math.Sin(1 + b * 12 + t * 4 + f);
        double Neg(int b, int t, int f) => Math.Cos(2 + b * 12 + t * 4 + f) * 0.7;
        static Tensor Build(Func<int, int, int, double> value) =>
            tensor(Enumerable.Range(0, rows * tokens * features).Select(i => (float)value(i / (tokens * features), i / features % tokens, i % features)).ToArray(), [rows, tokens, features]);

        var combined = Guidance.Combine(Build(Cond), Build(Neg), tensor(scales.Select(s => (float)s).ToArray()), normRescale);

        for (int b = 0; b < rows; b++)
        {
            for (int t = 0; t < tokens; t++)
            {
                // float32 inputs, as the function receives them
                double[] c = Enumerable.Range(0, features).Select(f => (double)(float)Cond(b, t, f)).ToArray();
                double[] n = Enumerable.Range(0, features).Select(f => (double)(float)Neg(b, t, f)).ToArray();
                double[] comb = Reference.GuidanceReference.Combine(c, n, scales[b], normRescale);
                for (int f = 0; f < features; f++)
                    Assert.Equal(comb[f], combined[b, t, f].item<float>(), 4);
            }
        }
    }

    [Fact]
    public void NormRescaleKeepsConditionalNormPerToken()
    {
        using var scope = NewDisposeScope();
        var cond = randn(1, 5, 6, generator: new Generator(5));
        var uncond = randn(1, 5, 6, generator: new Generator(6));
        var combined = Guidance.Combine(cond, uncond, tensor(new[] { 5.0f }), normRescale: true);
        var expected = cond.EuclideanNorm(-1, keepDimension: false);
        Assert.True(combined.EuclideanNorm(-1, keepDimension: false).allclose(expected, atol: 1e-5));
        var plain = Guidance.Combine(cond, uncond, tensor(new[] { 5.0f }), normRescale: false);
        var cosine = nn.functional.cosine_similarity(plain, combined, dim: -1);
        Assert.True(cosine.allclose(ones_like(cosine), atol: 1e-5)); // direction unchanged
    }
}
