using Glance.Engine.Models.Clip;
using Glance.Engine.Tests.Reference;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Clip;

public class ClipTextModelTests
{
    static ClipTextModel Tiny(ClipTextConfig config, ScalarType? dtype = null)
    {
        var model = SeededWeights.Redraw(new ClipTextModel(config, dtype), seed: 21);
        using (no_grad())
        {
            // Fresh LayerNorms are ones and zeros (kept by the redraw); randomise them so they matter.
            using var generator = new Generator(22, CPU);
            foreach (var (name, p) in model.named_parameters())
            {
                if (!name.Contains("layer_norm", StringComparison.Ordinal)) continue;
                if (name.EndsWith(".weight", StringComparison.Ordinal)) p.uniform_(0.5, 1.5, generator);
                else p.uniform_(-0.3, 0.3, generator);
            }
        }
        return model;
    }

    static Tensor Ids(params long[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);

    static ClipReference ReferenceOf(ClipTextModel model) =>
        new(model.state_dict(), model.Config.NumAttentionHeads, model.Config.LayerNormEps, model.Config.HiddenAct, model.Config.EosTokenId);

    static void AssertMatchesReference(ClipTextModel model, long[][] rows, int[] pooledAt, double tolerance)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var (hidden, pooled) = model.Forward(Ids(rows));
        var reference = ReferenceOf(model);
        for (int b = 0; b < rows.Length; b++)
        {
            var (expectedHidden, expectedPooled, index) = reference.Forward(rows[b]);
            Assert.Equal(pooledAt[b], index);
            var actual = TensorRows.Of(hidden[b]);
            for (int t = 0; t < actual.Length; t++)
            {
                for (int e = 0; e < actual[t].Length; e++) Assert.Equal(expectedHidden[t][e], actual[t][e], tolerance);
            }
            var actualPooled = pooled[b].to(ScalarType.Float64).data<double>().ToArray();
            for (int e = 0; e < actualPooled.Length; e++) Assert.Equal(expectedPooled[e], actualPooled[e], tolerance);
        }
    }

    [Fact]
    public void LegacyEosConfigMatchesFloat64ReferenceAndPoolsAtTheFirstLargestId()
    {
        // eos_token_id 2: the pooled row is the first occurrence of the largest id, not the 2 that comes earlier.
        using var model = Tiny(ClipTextConfig.Tiny with { EosTokenId = 2 });
        AssertMatchesReference(model, [[5, 2, 17, 63, 9, 63, 63, 63], [7, 33, 50, 2, 12, 50, 1, 3]], pooledAt: [3, 2], tolerance: 2e-5);
    }

    [Fact]
    public void RealEosConfigMatchesFloat64ReferenceAndPoolsAtTheFirstEos()
    {
        // eos_token_id 40: the first 40, not the larger id before it.
        using var model = Tiny(ClipTextConfig.Tiny with { EosTokenId = 40 });
        AssertMatchesReference(model, [[5, 50, 40, 9, 40, 1, 1, 1], [3, 63, 22, 40, 40, 7, 8, 9]], pooledAt: [2, 3], tolerance: 2e-5);
    }

    [Fact]
    public void ExactGeluConfigMatchesFloat64Reference()
    {
        using var model = Tiny(ClipTextConfig.Tiny with { HiddenAct = "gelu" });
        AssertMatchesReference(model, [[1, 4, 9, 16, 25, 36, 49, 63, 63, 63, 63, 63, 63, 63, 63, 63]], pooledAt: [7], tolerance: 2e-5);
    }

    [Fact]
    public void Bfloat16ModelStaysCloseToFloat64Reference()
    {
        using var model = Tiny(ClipTextConfig.Tiny, ScalarType.BFloat16);
        using var _ = no_grad();
        var (hidden, pooled) = model.Forward(Ids([6, 12, 30, 63, 63, 63]));
        Assert.Equal(ScalarType.BFloat16, hidden.dtype);
        Assert.Equal(ScalarType.BFloat16, pooled.dtype);
        AssertMatchesReference(model, [[6, 12, 30, 63, 63, 63]], pooledAt: [3], tolerance: 0.1);
    }

    [Fact]
    public void EarlierPositionsDoNotSeeLaterTokens()
    {
        using var model = Tiny(ClipTextConfig.Tiny);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var (first, _) = model.Forward(Ids([4, 8, 15, 16, 23, 42]));
        var (second, _) = model.Forward(Ids([4, 8, 15, 16, 23, 7]));
        Assert.True(first[0, ..5].allclose(second[0, ..5], rtol: 0, atol: 0));
        Assert.False(first[0, 5].allclose(second[0, 5], rtol: 1e-3, atol: 1e-4));
    }

    [Fact]
    public void RejectsIdsItCannotEncode()
    {
        using var model = new ClipTextModel(ClipTextConfig.Tiny);
        var tooLong = Assert.Throws<ArgumentException>(() => model.Forward(zeros([1, 17], ScalarType.Int64)));
        Assert.Contains("length 17", tooLong.Message, StringComparison.Ordinal);
        Assert.Contains("(16)", tooLong.Message, StringComparison.Ordinal);
        var wrongType = Assert.Throws<ArgumentException>(() => model.Forward(zeros([1, 4], ScalarType.Int32)));
        Assert.Contains("Int32", wrongType.Message, StringComparison.Ordinal);
        var outOfVocabulary = Assert.Throws<ArgumentException>(() => model.Forward(Ids([1, 64])));
        Assert.Contains("[0, 64)", outOfVocabulary.Message, StringComparison.Ordinal);
    }
}
