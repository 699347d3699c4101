using Glance.Engine.Models.Flux;
using Glance.Engine.Runtime;
using Glance.Engine.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

public class AutoencoderTests
{
    static AutoEncoder Tiny()
    {
        return SeededWeights.Redraw(new AutoEncoder(AutoencoderConfig.Tiny), seed: 1);
    }

    static Tensor Image(long batch = 2, long size = 32)
    {
        using var generator = new Generator(11, CPU);
        using var unit = rand([batch, 3, size, size], generator: generator);
        return unit.Times(2.0).Minus(1);
    }

    [Fact]
    public void EncodeShrinksImageByDownsampleFactorToZChannels()
    {
        using var ae = Tiny();
        using var _ = no_grad();
        using var image = Image();
        using var latent = ae.Encode(image);
        Assert.Equal(2, AutoencoderConfig.Tiny.DownsampleFactor);
        Assert.Equal([2L, 4, 16, 16], latent.shape);
    }

    [Fact]
    public void DecodeRestoresImageSizeAndOutChannels()
    {
        using var ae = Tiny();
        using var _ = no_grad();
        using var latent = randn(2, 4, 16, 16);
        using var image = ae.Decode(latent);
        Assert.Equal([2L, 3, 32, 32], image.shape);
    }

    [Fact]
    public void EncodeReturnsScaledAndShiftedPosteriorMean()
    {
        using var ae = Tiny();
        using var _ = no_grad();
        using var image = Image();
        var (mean, logVar) = ae.EncodeDistribution(image);
        using (mean)
        using (logVar)
        using (var latent = ae.Encode(image))
        using (var expected = mean.Minus(0.1).Times(0.5))
        {
            Assert.Equal([2L, 4, 16, 16], logVar.shape);
            Assert.True(latent.allclose(expected, rtol: 1e-5, atol: 1e-6));
            Assert.False(mean.allclose(latent)); // the mapping is not an identity for the tiny preset
        }
    }

    [Fact]
    public void DecodeUndoesLatentScalingBeforeTheDecoder()
    {
        using var ae = Tiny();
        using var _ = no_grad();
        using var latent = randn(1, 4, 8, 8);
        using var decoded = ae.Decode(latent);
        using var unscaled = latent.DividedBy(0.5).Plus(0.1);
        using var direct = ae.decoder.forward(unscaled);
        Assert.True(decoded.allclose(direct, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void FluxShapedModelHasTheAeSafetensorsKeySet()
    {
        // Same key set as the FLUX preset (244 tensors in ae.safetensors), at a quarter of the width.
        using var ae = new AutoEncoder(AutoencoderConfig.Flux with { Ch = 32 });
        var keys = ae.state_dict().Keys.ToHashSet();
        Assert.Equal(244, keys.Count);
        string[] present =
        [
            "encoder.conv_in.weight", "encoder.down.0.block.1.conv2.bias", "encoder.down.1.block.0.nin_shortcut.weight",
            "encoder.down.2.downsample.conv.weight", "encoder.mid.block_1.norm1.weight", "encoder.mid.attn_1.proj_out.weight",
            "encoder.mid.attn_1.q.bias", "encoder.norm_out.bias", "encoder.conv_out.weight",
            "decoder.conv_in.weight", "decoder.mid.block_2.conv1.weight", "decoder.up.3.block.2.norm2.weight",
            "decoder.up.3.upsample.conv.weight", "decoder.up.1.block.0.nin_shortcut.bias", "decoder.norm_out.weight", "decoder.conv_out.bias",
        ];
        foreach (var key in present) Assert.Contains(key, keys);
        string[] absent = ["encoder.down.3.downsample.conv.weight", "decoder.up.0.upsample.conv.weight", "encoder.down.0.block.2.conv1.weight", "decoder.up.0.block.3.conv1.weight"];
        foreach (var key in absent) Assert.DoesNotContain(key, keys);
        Assert.Equal([32L, 128, 3, 3], ae.state_dict()["encoder.conv_out.weight"].shape);
    }

    [Fact]
    public void MidAttentionMatchesExplicitSingleHeadSoftmax()
    {
        using var ae = Tiny();
        using var _ = no_grad();
        var attn = ae.encoder.mid.attn_1;
        using var scope = NewDisposeScope();
        attn.norm.weight!.normal_();
        attn.norm.bias!.normal_();
        var x = randn(2, 64, 4, 4);
        var h = nn.functional.group_norm(x, 32, attn.norm.weight, attn.norm.bias, 1e-6);
        Tensor Flat(TorchSharp.Modules.Conv2d conv) => conv.forward(h).reshape(2, 64, 16).transpose(1, 2); // [B, HW, C]
        var weights = Flat(attn.q).matmul(Flat(attn.k).transpose(1, 2)).DividedBy(Math.Sqrt(64)).softmax(-1);
        var mixed = weights.matmul(Flat(attn.v)).transpose(1, 2).reshape(2, 64, 4, 4);
        var expected = x.Plus(attn.proj_out.forward(mixed));
        Assert.True(attn.forward(x).allclose(expected, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void DownsamplePadsRightAndBottomOnly()
    {
        using var ae = Tiny();
        using var _ = no_grad();
        var down = ae.encoder.down[0].downsample!;
        using var scope = NewDisposeScope();
        var x = randn(1, 32, 6, 6);
        var expected = nn.functional.conv2d(nn.functional.pad(x, [0, 1, 0, 1]), down.conv.weight!, down.conv.bias, strides: [2, 2]);
        var actual = down.forward(x);
        Assert.Equal([1L, 32, 3, 3], actual.shape);
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void GroupNormsStartAsIdentityAffine()
    {
        // TorchSharp's GroupNorm leaves weight and bias uninitialised; untouched memory made decoding return NaN.
        using var ae = Tiny();
        var norms = ae.named_parameters().Where(p => p.name.Contains("norm", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(norms);
        foreach (var (name, p) in norms)
        {
            double expected = name.EndsWith(".weight", StringComparison.Ordinal) ? 1 : 0;
            Assert.True(p.EqualTo(expected).all().item<bool>(), $"{name} is not initialised to {expected}");
        }
    }

    [Fact]
    public void ModulesAreBuiltInTheRequestedDtype()
    {
        using var ae = new AutoEncoder(AutoencoderConfig.Tiny, ScalarType.BFloat16);
        Assert.All(ae.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        using var _ = no_grad();
        using var latent = randn(1, 4, 8, 8, dtype: ScalarType.BFloat16);
        using var image = ae.Decode(latent);
        Assert.Equal(ScalarType.BFloat16, image.dtype);
        Assert.True(image.isfinite().all().item<bool>());
    }

    public static TheoryData<string> AutoencoderShapes => ["tiny", "glance-mini"];

    /// <summary>
    /// Every convolution of the autoencoder, run in bfloat16 the way the model runs it, against float64 on the same
    /// bfloat16 inputs and weights. A correct kernel multiplies bfloat16 values exactly in float32, accumulates K products
    /// with error at most gamma_K * sum|w x| and rounds once (u = 2^-8): |y' - y| <= u|y| + (1 + u) gamma_(K+1) (sum|w x| + |b|)
    /// per element. libtorch's CPU kernel on native-bfloat16 CPUs breaks this by 20-60% for 3x3 convolutions whose output
    /// channels are not a multiple of 16, such as the RGB output layer.
    /// </summary>
    [Theory]
    [MemberData(nameof(AutoencoderShapes))]
    public void EveryConvolutionInBfloat16IsWithinOneRoundingOfFloat64(string shape)
    {
        var config = shape == "tiny" ? AutoencoderConfig.Tiny : Glance.Engine.Pipeline.GlanceModelPresets.GlanceMini.Autoencoder;
        using var ae = SeededWeights.Redraw(new AutoEncoder(config, ScalarType.BFloat16), seed: 21);
        using var _ = no_grad();
        using var generator = new Generator(22, CPU);
        var convolutions = ae.named_modules().Where(m => m.module is TorchSharp.Modules.Conv2d).ToList();
        Assert.Contains(convolutions, c => ((TorchSharp.Modules.Conv2d)c.module).out_channels == 3);
        foreach (var (name, module) in convolutions)
        {
            using var scope = NewDisposeScope();
            var conv = (TorchSharp.Modules.Conv2d)module;
            var input = randn([1, conv.in_channels, 8, 8], generator: generator).to(ScalarType.BFloat16);
            var actual = ConvolutionPrecision.Forward(conv, input).to(ScalarType.Float64);

            Tensor Reference(Tensor x, Tensor w, Tensor? b) =>
                nn.functional.conv2d(x, w, b, conv.stride, conv.padding, conv.dilation, conv.groups);
            var x64 = input.to(ScalarType.Float64);
            var w64 = conv.weight.to(ScalarType.Float64);
            var b64 = conv.bias?.to(ScalarType.Float64);
            var exact = Reference(x64, w64, b64);
            var magnitudes = Reference(x64.abs(), w64.abs(), b64?.abs());
            long terms = conv.in_channels * conv.kernel_size.Aggregate(1L, (a, k) => a * k) + 1;
            var bound = exact.abs().Times(Bfloat16Bounds.UnitRoundoff)
                .Plus(magnitudes.Times((1 + Bfloat16Bounds.UnitRoundoff) * Bfloat16Bounds.Float32Accumulation(terms)));
            var excess = actual.sub(exact).abs().div(bound.ClampedBelow(1e-30));
            double worst = excess.max().item<double>();
            Assert.True(worst <= 1, $"{name} ({conv.in_channels} -> {conv.out_channels}): error {worst:F1} times the one-rounding bound");
        }
    }

    [Fact]
    public void FluxPresetHasReferenceValues()
    {
        var flux = AutoencoderConfig.FromPreset("flux");
        Assert.Equal((128, 2, 16, 0.3611, 0.1159), (flux.Ch, flux.NumResBlocks, flux.ZChannels, flux.ScaleFactor, flux.ShiftFactor));
        Assert.Equal([1, 2, 4, 4], flux.ChMult);
        Assert.Equal(8, flux.DownsampleFactor);
    }

    [Fact]
    public void ChannelsNotDivisibleByGroupCountAreRejectedNamingTheValue()
    {
        var error = Assert.Throws<ArgumentException>(() => (AutoencoderConfig.Tiny with { Ch = 48 }).Validate());
        Assert.Contains("48", error.Message, StringComparison.Ordinal);
        Assert.Contains("32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ImageSidesMustBeMultiplesOfTheDownsampleFactor()
    {
        using var ae = Tiny();
        using var image = Image(1, 31);
        var error = Assert.Throws<ArgumentException>(() => ae.Encode(image));
        Assert.Contains("31x31", error.Message, StringComparison.Ordinal);
    }
}
