using Glance.Engine.Models.T5;
using Glance.Engine.Tests.Reference;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.T5;

/// <summary>
/// The whole encoder against <see cref="T5Reference"/>, float64 loops written from transformers' modeling_t5.py. The
/// tiny config keeps 2 layers but shrinks the bucket table (16 buckets, max distance 12) so that a 20-token sequence
/// reaches all three bucket ranges: exact (below 4), log-spaced (4 to 11) and clamped (12 and beyond).
/// </summary>
public sealed class T5EncoderReferenceTests
{
    static readonly T5Config Config = new(VocabSize: 40, DModel: 32, DKv: 8, DFf: 48, NumLayers: 2, NumHeads: 4,
        RelativeAttentionNumBuckets: 16, RelativeAttentionMaxDistance: 12);

    // Row 0 uses all 20 positions; row 1 has 13 tokens (EOS included) and 7 pads.
    static readonly long[][] Ids =
    [
        [5, 17, 3, 22, 9, 9, 31, 14, 27, 6, 38, 11, 20, 4, 35, 8, 19, 25, 12, 1],
        [7, 26, 13, 33, 2, 18, 29, 10, 36, 15, 24, 30, 1, 0, 0, 0, 0, 0, 0, 0],
    ];

    static readonly long[][] Mask =
    [
        Enumerable.Repeat(1L, 20).ToArray(),
        [.. Enumerable.Repeat(1L, 13), .. Enumerable.Repeat(0L, 7)],
    ];

    static T5Encoder Model()
    {
        var model = SeededWeights.Redraw(new T5Encoder(Config), seed: 31);
        using var _ = no_grad();
        using var generator = new Generator(32, CPU);
        // Fresh RMSNorm weights are ones (kept by the redraw); randomise them so that applying them is checked too.
        foreach (var (name, p) in model.named_parameters().Where(p => p.name.EndsWith("layer_norm.weight", StringComparison.Ordinal)))
            p.uniform_(0.5, 1.5, generator);
        return model;
    }

    /// <summary>
    /// float32 keeps about 7 digits; through two layers the engine stays within about 1e-6 of the outputs' scale,
    /// while a scaled score, a wrong bucket, an unshared bias, a mean-centred norm or exact GELU moves outputs by far
    /// more than the 1e-5 allowed.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ForwardMatchesAFloat64ReferenceOfTransformersT5(bool withMask)
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        using var _ = no_grad();
        var ids = tensor(Ids.SelectMany(r => r).ToArray(), [2, 20]);
        var mask = tensor(Mask.SelectMany(r => r).ToArray(), [2, 20]);
        var actual = model.Forward(ids, withMask ? mask : null);

        var reference = new T5Reference(model.state_dict(), Config.NumHeads, Config.DKv, Config.RelativeAttentionNumBuckets,
            Config.RelativeAttentionMaxDistance, Config.LayerNormEpsilon);
        for (int b = 0; b < 2; b++)
        {
            var expected = reference.Forward(Ids[b], withMask ? Mask[b] : null);
            var rows = TensorRows.Of(actual[b]);
            double largest = expected.SelectMany(r => r).Max(Math.Abs);
            double worst = expected.SelectMany((r, i) => r.Select((v, j) => Math.Abs(v - rows[i][j]))).Max();
            Assert.True(worst <= 1e-5 * largest, $"row {b}: largest difference {worst:E2} against outputs up to {largest:E2}");
        }
    }

    [Fact]
    public void TheMaskChangesTheReferenceOfThePaddedRow()
    {
        // Guards the test above: with and without the mask the expected values of row 1 differ well beyond its tolerance.
        using var model = Model();
        var reference = new T5Reference(model.state_dict(), Config.NumHeads, Config.DKv, Config.RelativeAttentionNumBuckets,
            Config.RelativeAttentionMaxDistance, Config.LayerNormEpsilon);
        var masked = reference.Forward(Ids[1], Mask[1]);
        var unmasked = reference.Forward(Ids[1]);
        double largest = masked.SelectMany(r => r).Max(Math.Abs);
        double difference = masked.Take(13).SelectMany((r, i) => r.Select((v, j) => Math.Abs(v - unmasked[i][j]))).Max();
        Assert.True(difference > 1e-2 * largest, $"masking moved the real tokens by only {difference:E2} (outputs up to {largest:E2})");
    }
}
