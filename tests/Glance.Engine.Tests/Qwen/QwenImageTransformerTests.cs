using Glance.Engine.Lora;
using Glance.Engine.Models.Qwen;
using Glance.Engine.Runtime;
using Glance.Engine.Tests.Reference;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Qwen;

public class QwenImageTransformerTests
{
    static readonly QwenImageConfig Tiny = QwenTinyModel.Config;

    static List<string> ExpectedDiffusersKeys(QwenImageConfig c)
    {
        static IEnumerable<string> Linear(string module) => [$"{module}.weight", $"{module}.bias"];

        var keys = new List<string>();
        keys.AddRange(Linear("img_in"));
        keys.Add("txt_norm.weight");
        keys.AddRange(Linear("txt_in"));
        keys.AddRange(Linear("time_text_embed.timestep_embedder.linear_1"));
        keys.AddRange(Linear("time_text_embed.timestep_embedder.linear_2"));
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = $"transformer_blocks.{i}.";
            keys.AddRange(Linear(p + "img_mod.1"));
            keys.AddRange(Linear(p + "txt_mod.1"));
            foreach (string linear in new[] { "to_q", "to_k", "to_v", "add_q_proj", "add_k_proj", "add_v_proj", "to_out.0", "to_add_out" })
                keys.AddRange(Linear(p + "attn." + linear));
            foreach (string norm in new[] { "norm_q", "norm_k", "norm_added_q", "norm_added_k" })
                keys.Add(p + "attn." + norm + ".weight");
            foreach (string stream in new[] { "img", "txt" })
            {
                keys.AddRange(Linear(p + stream + "_mlp.net.0.proj"));
                keys.AddRange(Linear(p + stream + "_mlp.net.2"));
            }
        }
        keys.AddRange(Linear("norm_out.linear"));
        keys.AddRange(Linear("proj_out"));
        return keys;
    }

    [Fact]
    public void StateDictKeysAndShapesAreDiffusersOnes()
    {
        using var model = QwenTinyModel.Build();
        var state = model.state_dict();
        var expected = ExpectedDiffusersKeys(Tiny);
        Assert.Equal(expected.Order(StringComparer.Ordinal), state.Keys.Order(StringComparer.Ordinal));
        // Shapes as diffusers builds them for this config: width 32, MLP 128, output 4 x 2 x 2.
        Assert.Equal(new long[] { 32, 16 }, state["img_in.weight"].shape);
        Assert.Equal(new long[] { 24 }, state["txt_norm.weight"].shape);
        Assert.Equal(new long[] { 32, 256 }, state["time_text_embed.timestep_embedder.linear_1.weight"].shape);
        Assert.Equal(new long[] { 6 * 32, 32 }, state["transformer_blocks.1.img_mod.1.weight"].shape);
        Assert.Equal(new long[] { 16 }, state["transformer_blocks.1.attn.norm_added_k.weight"].shape);
        Assert.Equal(new long[] { 128, 32 }, state["transformer_blocks.0.txt_mlp.net.0.proj.weight"].shape);
        Assert.Equal(new long[] { 32, 128 }, state["transformer_blocks.0.txt_mlp.net.2.weight"].shape);
        Assert.Equal(new long[] { 64, 32 }, state["norm_out.linear.weight"].shape);
        Assert.Equal(new long[] { 16, 32 }, state["proj_out.weight"].shape);
    }

    [Fact]
    public void EveryLinearLayerIsALoraLinearSharingTheModelRouting()
    {
        using var model = QwenTinyModel.Build();
        var linears = LoraLayers.Of(model);
        var biases = model.state_dict().Keys.Where(k => k.EndsWith(".bias", StringComparison.Ordinal)).Select(k => k[..^".bias".Length]);
        Assert.Equal(biases.Order(StringComparer.Ordinal), linears.Keys.Order(StringComparer.Ordinal));
        Assert.All(linears.Values, l => Assert.Same(model.Routing, l.Routing));
    }

    [Fact]
    public void ForwardReturnsPatchPackedOutputChannelsPerImageToken()
    {
        using var scope = NewDisposeScope();
        using var model = QwenTinyModel.Build();
        using var _ = no_grad();
        var (img, txt) = QwenTinyModel.Inputs(2, 3, 4, 5);
        var output = model.Forward(img, txt, null, tensor(new[] { 0.2f, 0.9f }), 3, 4);
        Assert.Equal(new long[] { 2, 12, Tiny.OutChannels * 4 }, output.shape);
        Assert.False(output.isnan().any().item<bool>());
    }

    /// <summary>
    /// The whole forward against <see cref="QwenImageReference"/>, float64 loops written from diffusers' model code: a
    /// batch of two with different sigmas, the second prompt padded (its last two text tokens masked, holding random
    /// values so that leaking them would show), on grids with an odd side so that the centring rule is pinned. A
    /// swapped modulation chunk, the final norm's (scale, shift) order, a position off by one or an unmasked pad moves
    /// outputs by percents; float32 through ~30 stages stays within 1e-5 of the output scale.
    /// </summary>
    [Theory]
    [InlineData(3, 4)]
    [InlineData(5, 2)]
    public void ForwardMatchesAnIndependentFloat64ReferenceOfTheDiffusersModel(int h, int w)
    {
        using var scope = NewDisposeScope();
        using var model = QwenTinyModel.Build();
        using var _ = no_grad();
        var (img, txt) = QwenTinyModel.Inputs(2, h, w, 5);
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 0, 0 }, [2, 5]);
        var sigmas = tensor(new[] { 0.3f, 0.85f });
        var actual = model.Forward(img, txt, mask, sigmas, h, w);

        var reference = new QwenImageReference(model.state_dict(), Tiny.NumAttentionHeads, Tiny.AttentionHeadDim, Tiny.AxesDimsRope);
        for (int b = 0; b < 2; b++)
        {
            bool[] tokenMask = [.. Enumerable.Range(0, 5).Select(j => mask[b, j].item<long>() != 0)];
            var expected = reference.Forward(TensorRows.Of(img[b]), TensorRows.Of(txt[b]), tokenMask, sigmas[b].to(ScalarType.Float64).item<double>(), h, w);
            var row = TensorRows.Of(actual[b]);
            double largest = expected.SelectMany(r => r).Max(Math.Abs);
            double worst = expected.SelectMany((r, i) => r.Select((v, j) => Math.Abs(v - row[i][j]))).Max();
            Assert.True(worst <= 1e-4 * largest, $"sample {b}: largest difference {worst:E2} against outputs up to {largest:E2}");
        }
    }

    /// <summary>
    /// The pipeline right-pads shorter prompts with zero rows and passes a mask; the padded keys must not reach the image,
    /// and the padded rows (queries that still attend) must not turn into NaN, which would leak through the masked keys' zero weights.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PaddedTextTokensChangeNoImageOutput(bool randomPadding)
    {
        using var scope = NewDisposeScope();
        using var model = QwenTinyModel.Build();
        using var _ = no_grad();
        var (img, txt) = QwenTinyModel.Inputs(1, 3, 4, 5);
        var sigmas = tensor(new[] { 0.6f });
        var alone = model.Forward(img, txt, null, sigmas, 3, 4);

        var padding = randomPadding ? randn(1, 3, Tiny.JointAttentionDim).Times(10.0) : zeros(1, 3, Tiny.JointAttentionDim);
        var padded = cat([txt, padding], 1);
        var mask = cat([ones(1, 5), zeros(1, 3)], 1);
        var withPadding = model.Forward(img, padded, mask, sigmas, 3, 4);

        Assert.False(withPadding.isnan().any().item<bool>());
        Assert.True(withPadding.allclose(alone, rtol: 0, atol: 1e-5), $"largest difference {withPadding.sub(alone).abs().max().item<float>():E2}");
        // Unmasked, the same padding does change the image: the mask is what keeps it out.
        var unmasked = model.Forward(img, padded, null, sigmas, 3, 4);
        Assert.False(unmasked.allclose(alone, rtol: 0, atol: 1e-3));
    }

    [Fact]
    public void AMaskWithEveryTokenSetEqualsNoMask()
    {
        using var scope = NewDisposeScope();
        using var model = QwenTinyModel.Build();
        using var _ = no_grad();
        var (img, txt) = QwenTinyModel.Inputs(2, 2, 3, 4);
        var sigmas = tensor(new[] { 0.1f, 0.7f });
        var none = model.Forward(img, txt, null, sigmas, 2, 3);
        var all = model.Forward(img, txt, ones(2, 4, dtype: ScalarType.Int64), sigmas, 2, 3);
        Assert.True(all.allclose(none, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void SampleAloneEqualsSameSampleInsideAPaddedBatch()
    {
        using var scope = NewDisposeScope();
        using var model = QwenTinyModel.Build();
        using var _ = no_grad();
        var (img, txt) = QwenTinyModel.Inputs(3, 2, 2, 6);
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 0 }, [3, 6]);
        var sigmas = tensor(new[] { 0.9f, 0.4f, 0.05f });
        var batched = model.Forward(img, txt, mask, sigmas, 2, 2);
        for (int b = 0; b < 3; b++)
        {
            int tokens = (int)mask[b].sum().item<long>();
            var alone = model.Forward(img[b..(b + 1)], txt[b..(b + 1), ..tokens], null, sigmas[b..(b + 1)], 2, 2);
            Assert.True(alone.allclose(batched[b..(b + 1)], rtol: 0, atol: 1e-5), $"sample {b}");
        }
    }

    [Fact]
    public void PositionsAtOneMegapixelAreCentredWithTextAfterThem()
    {
        // 1024 x 1024: a 128 x 128 latent packs into a 64 x 64 token grid.
        var positions = QwenImagePositions.Of(3, 64, 64);
        Assert.Equal(new double[] { 32, 32, 32 }, Row(positions, 0));
        Assert.Equal(new double[] { 34, 34, 34 }, Row(positions, 2));
        Assert.Equal(new double[] { 0, -32, -32 }, Row(positions, 3));
        Assert.Equal(new double[] { 0, -32, 31 }, Row(positions, 3 + 63));
        Assert.Equal(new double[] { 0, -31, -32 }, Row(positions, 3 + 64));
        Assert.Equal(new double[] { 0, 31, 31 }, Row(positions, 3 + 64 * 64 - 1));

        static double[] Row(double[,] p, int i) => [p[i, 0], p[i, 1], p[i, 2]];
    }

    /// <summary>diffusers casts the timestep to the model dtype before embedding it, so a bfloat16 model sees sigma rounded to 8 bits.</summary>
    [Fact]
    public void Bfloat16ModelSeesSigmaRoundedToBfloat16()
    {
        using var scope = NewDisposeScope();
        using var model = QwenTinyModel.Build(ScalarType.BFloat16);
        using var _ = no_grad();
        var (img, txt) = QwenTinyModel.Inputs(1, 2, 2, 3);
        var exact = tensor(new[] { 0.7012f });
        var rounded = exact.to(ScalarType.BFloat16).to(ScalarType.Float32);
        Assert.NotEqual(exact.item<float>(), rounded.item<float>());
        var a = model.Forward(img, txt, null, exact, 2, 2);
        var b = model.Forward(img, txt, null, rounded, 2, 2);
        Assert.True(a.eq(b).all().item<bool>());
    }

    [Fact]
    public void Bfloat16ForwardIsCloseToFloat32()
    {
        using var scope = NewDisposeScope();
        using var full = QwenTinyModel.Build();
        using var half = new QwenImageTransformer(Tiny, ScalarType.BFloat16);
        using var _ = no_grad();
        var weights = full.state_dict();
        foreach (var (name, parameter) in half.named_parameters()) parameter.copy_(weights[name]);
        var (img, txt) = QwenTinyModel.Inputs(2, 3, 4, 5);
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 0, 0 }, [2, 5]);
        // Sigmas that bfloat16 holds exactly, so that only the arithmetic differs.
        var sigmas = tensor(new[] { 0.25f, 0.875f });
        var reference = full.Forward(img, txt, mask, sigmas, 3, 4);
        var reduced = half.Forward(img, txt, mask, sigmas, 3, 4);
        Assert.Equal(ScalarType.BFloat16, reduced.dtype);
        double relativeError = reduced.to(ScalarType.Float32).sub(reference).norm().item<float>() / reference.norm().item<float>();
        // About 25 sequential roundings per block on the longest path (modulation, norms, projections, RoPE, attention,
        // MLP, residuals) over two blocks plus the embedders and output: 60 roundings.
        Assert.InRange(relativeError, 0, Bfloat16Bounds.Sequential(60));
    }

    [Fact]
    public void ImageTokenCountMustMatchTheGrid()
    {
        using var scope = NewDisposeScope();
        using var model = QwenTinyModel.Build();
        var (img, txt) = QwenTinyModel.Inputs(1, 3, 4, 5);
        var error = Assert.Throws<ArgumentException>(() => model.Forward(img, txt, null, tensor(new[] { 0.5f }), 4, 4));
        Assert.Contains("[1, 12, 16]", error.Message, StringComparison.Ordinal);
        Assert.Contains("16 (= 4 x 4)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TextMaskMustHaveOneEntryPerTextToken()
    {
        using var scope = NewDisposeScope();
        using var model = QwenTinyModel.Build();
        var (img, txt) = QwenTinyModel.Inputs(1, 3, 4, 5);
        var error = Assert.Throws<ArgumentException>(() => model.Forward(img, txt, ones(1, 4), tensor(new[] { 0.5f }), 3, 4));
        Assert.Contains("txtMask has shape [1, 4]", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<QwenImageConfig, string> RefusedConfigs => new()
    {
        { Tiny with { GuidanceEmbeds = true }, "GuidanceEmbeds is true; expected false" },
        { Tiny with { AxesDimsRope = [4, 6, 8] }, "adds up to 18; expected AttentionHeadDim = 16" },
        { Tiny with { AxesDimsRope = [8, 8] }, "AxesDimsRope has 2 entries; expected 3" },
        { Tiny with { AxesDimsRope = [4, 5, 7] }, "AxesDimsRope[1] is 5; expected a positive even number" },
        { Tiny with { PatchSize = 0 }, "PatchSize is 0; expected a positive number" },
        { Tiny with { Theta = 0 }, "Theta is 0; expected a positive RoPE base" },
    };

    [Theory]
    [MemberData(nameof(RefusedConfigs))]
    public void ConfigsThisEngineCannotBuildAreRefusedNamingTheValue(QwenImageConfig config, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => config.Validate());
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
