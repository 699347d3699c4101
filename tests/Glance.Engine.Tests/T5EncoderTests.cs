using Glance.Engine.Models.T5;
using Glance.Engine.Runtime;
using Glance.Engine.Text;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

public class T5EncoderTests
{
    static T5Encoder Tiny()
    {
        var model = SeededWeights.Redraw(new T5Encoder(T5Config.Tiny), seed: 7);
        using (no_grad())
        {
            // Fresh RMSNorm weights are ones (kept by the redraw); randomise the norms so they matter.
            using var generator = new Generator(8, CPU);
            foreach (var (name, p) in model.named_parameters())
            {
                if (name.EndsWith("layer_norm.weight", StringComparison.Ordinal)) p.uniform_(0.5, 1.5, generator);
            }
        }
        return model;
    }

    static Tensor Ids(params long[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);

    [Fact]
    public void RelativePositionBucketMatchesHandComputedValues()
    {
        // 32 buckets, bidirectional: keys before the query use 0-15, after it 16-31; |d| < 8 exact,
        // 8..127 log-spaced as 8 + floor(ln(|d| / 8) / ln(16) * 8), 128 and beyond in the last bucket.
        using var positions = tensor(new long[] { -200, -20, -9, -8, -1, 0, 1, 7, 8, 20, 200 });
        using var buckets = T5Encoder.RelativePositionBucket(positions, numBuckets: 32, maxDistance: 128);
        Assert.Equal([15L, 10, 8, 8, 1, 0, 17, 23, 24, 26, 31], buckets.data<long>().ToArray());
    }

    [Fact]
    public void ForwardMapsIdsToBatchLengthDModel()
    {
        using var model = Tiny();
        using var _ = no_grad();
        using var ids = Ids([5, 6, 7, 1], [9, 10, 11, 1]);
        using var hidden = model.Forward(ids);
        Assert.Equal([2L, 4, 64], hidden.shape);
        Assert.False(hidden.isnan().any().item<bool>());
    }

    [Fact]
    public void MaskedPaddingLeavesRealTokensUnchanged()
    {
        using var model = Tiny();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var alone0 = model.Forward(Ids([5, 6, 7, 8, 1]));
        var alone1 = model.Forward(Ids([9, 10, 1]));
        var padded = Ids([5, 6, 7, 8, 1, 0, 0, 0], [9, 10, 1, 0, 0, 0, 0, 0]);
        var mask = Ids([1, 1, 1, 1, 1, 0, 0, 0], [1, 1, 1, 0, 0, 0, 0, 0]);
        var batched = model.Forward(padded, mask);
        Assert.True(batched[0, ..5].allclose(alone0[0], rtol: 1e-4, atol: 1e-5));
        Assert.True(batched[1, ..3].allclose(alone1[0], rtol: 1e-4, atol: 1e-5));
        // Without the mask the padding is attended to and changes the real tokens.
        var unmasked = model.Forward(padded);
        Assert.False(unmasked[1, ..3].allclose(alone1[0], rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void AttentionIsUnscaledDotProductPlusPositionBias()
    {
        using var model = Tiny();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var attention = model.encoder.block[0].SelfAttentionLayer.SelfAttention;
        var x = randn(1, 5, 64);
        Tensor Heads(TorchSharp.Modules.Linear projection) => projection.forward(x).view(1, 5, 4, 16).transpose(1, 2);
        var bias = attention.PositionBias(5, 5);
        var weights = Heads(attention.q).matmul(Heads(attention.k).transpose(2, 3)).Plus(bias).softmax(-1);
        var expected = attention.o.forward(weights.matmul(Heads(attention.v)).transpose(1, 2).reshape(1, 5, 64));
        Assert.True(attention.forward(x, bias).allclose(expected, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void PositionBiasLooksUpTheBucketOfEachKeyMinusQuery()
    {
        using var model = Tiny();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var attention = model.encoder.block[0].SelfAttentionLayer.SelfAttention;
        var table = attention.relative_attention_bias!.weight!;
        var bias = attention.PositionBias(3, 3);
        Assert.Equal([1L, 4, 3, 3], bias.shape);
        // query 2, key 0: offset -2 -> bucket 2; query 0, key 2: offset +2 -> bucket 16 + 2.
        Assert.True(bias[0, .., 2, 0].allclose(table[2]));
        Assert.True(bias[0, .., 0, 2].allclose(table[18]));
    }

    [Fact]
    public void RmsNormScalesByRootMeanSquareWithoutCentring()
    {
        using var model = Tiny();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var norm = model.encoder.final_layer_norm;
        var x = randn(2, 3, 64).Plus(3.0);
        var expected = x.div(x.square().mean([-1], keepdim: true).Plus(1e-6).sqrt()).mul(norm.weight);
        Assert.True(norm.forward(x).allclose(expected, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void FeedForwardIsGatedTanhGelu()
    {
        using var model = Tiny();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var ff = model.encoder.block[1].FeedForwardLayer.DenseReluDense;
        var x = randn(1, 4, 64);
        var a = ff.wi_0.forward(x);
        var gelu = a.Times(0.5).mul(a.Plus(a.Power(3).Times(0.044715)).Times(Math.Sqrt(2 / Math.PI)).tanh().Plus(1.0));
        var expected = ff.wo.forward(gelu.mul(ff.wi_1.forward(x)));
        Assert.True(ff.forward(x).allclose(expected, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void StateDictUsesHuggingFaceKeyNamesWithOneBiasTable()
    {
        using var model = Tiny();
        var keys = model.state_dict().Keys.ToHashSet();
        string[] present =
        [
            "shared.weight", "encoder.final_layer_norm.weight",
            "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
            "encoder.block.1.layer.0.SelfAttention.q.weight", "encoder.block.1.layer.0.SelfAttention.o.weight",
            "encoder.block.1.layer.0.layer_norm.weight", "encoder.block.0.layer.1.DenseReluDense.wi_0.weight",
            "encoder.block.0.layer.1.DenseReluDense.wi_1.weight", "encoder.block.1.layer.1.DenseReluDense.wo.weight",
            "encoder.block.1.layer.1.layer_norm.weight",
        ];
        foreach (var key in present) Assert.Contains(key, keys);
        Assert.Single(keys, k => k.Contains("relative_attention_bias", StringComparison.Ordinal));
        Assert.DoesNotContain(keys, k => k.EndsWith(".bias", StringComparison.Ordinal));
        // shared + final norm + per block (q, k, v, o, 2 norms, 3 ffn) + one bias table
        Assert.Equal(2 + 2 * 9 + 1, keys.Count);
    }

    [Fact]
    public void XxlPresetHasReferenceValues()
    {
        var xxl = T5Config.FromPreset("t5-v1_1-xxl");
        Assert.Equal((32128, 4096, 64, 10240, 24, 64, 32, 128), (xxl.VocabSize, xxl.DModel, xxl.DKv, xxl.DFf, xxl.NumLayers, xxl.NumHeads, xxl.RelativeAttentionNumBuckets, xxl.RelativeAttentionMaxDistance));
    }

    [Fact]
    public void BucketCountNotMultipleOfFourIsRejectedNamingTheValue()
    {
        var error = Assert.Throws<ArgumentException>(() => (T5Config.Tiny with { RelativeAttentionNumBuckets = 30 }).Validate());
        Assert.Contains("30", error.Message, StringComparison.Ordinal);
    }
}
