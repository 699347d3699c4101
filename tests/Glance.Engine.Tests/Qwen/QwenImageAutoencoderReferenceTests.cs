using Glance.Engine.Models.Qwen;
using Glance.Engine.Runtime;
using Glance.Engine.Tests.Reference;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Qwen;

/// <summary>
/// Our single-image autoencoder (2-D convolutions with the last temporal kernel slice, time_conv skipped) against
/// <see cref="QwenImageAutoencoderReference"/>, a float64 loop implementation of diffusers' first-chunk forward that
/// runs the full causal 3-D kernels over a zero-padded frame stack. Agreement confirms the single-frame reduction; a
/// wrong slice, padding, norm, q/k/v order, resample or latent normalisation shows up as a mismatch.
/// </summary>
public class QwenImageAutoencoderReferenceTests
{
    // Tolerance: float32 rounds each product and sum to 6e-8 relative; a convolution here sums at most 16 * 9 = 144
    // products of O(1) terms, about 20 layers run in sequence with RMS norms rescaling between them, so rounding that
    // reaches outputs of magnitude ~1 stays near 1e-6 (measured: 9e-8 decoding, 2e-7 and 9e-7 encoding). 1e-4 leaves
    // room for other libtorch kernels, while a wrong layer moves outputs by far more: taking temporal slice 0 instead of
    // the last moved them by 0.38 to 1.0, leaving out the norms' gamma by 0.07 to 0.65.
    const double Tolerance = 1e-4;

    static Tensor Latents(QwenImageAutoencoderConfig config, ulong seed)
    {
        using var generator = new Generator(seed, CPU);
        return randn([2, config.ZDim, 4, 4], generator: generator);
    }

    static Tensor Images(ulong seed)
    {
        using var generator = new Generator(seed, CPU);
        return rand([2, 3, 16, 16], generator: generator).Times(2.0).Minus(1);
    }

    [Fact]
    public void DecodeMatchesTheFloat64FrameAxisReference()
    {
        var config = QwenImageVaeTestModels.Tiny;
        using var model = QwenImageVaeTestModels.Seeded(config, seed: 41);
        using var scope = NewDisposeScope();
        var reference = new QwenImageAutoencoderReference(QwenImageVaeTestModels.StateOf(model));
        using var noGrad = no_grad();
        var latents = Latents(config, 5);

        var images = model.Decode(latents);

        Assert.Equal([2L, 3, 16, 16], images.shape);
        for (int b = 0; b < 2; b++)
        {
            var expected = reference.DecodeNormalised(QwenImageVaeTestModels.OneFrame(latents, b), config.LatentsMean, config.LatentsStd);
            double difference = QwenImageVaeTestModels.MaxDifference(images[b], expected);
            Assert.True(difference < Tolerance, $"sample {b}: max |ours - reference| = {difference:E2}");
            // Not trivially small, and not saturated by the clamp everywhere.
            Assert.True(expected.V.Select(Math.Abs).Max() > 0.1, "the reference image is not trivially small");
            Assert.True(expected.V.Count(v => Math.Abs(v) < 1) > expected.V.Length / 2, "most reference pixels lie inside the clamp");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EncodeMatchesTheFloat64FrameAxisReference(bool encoderAttention)
    {
        // attn_scales [1.0, 0.25] puts an attention block after the first level's resnet (16x16) and the last (4x4).
        var config = QwenImageVaeTestModels.Tiny with { AttnScales = encoderAttention ? [1.0, 0.25] : [] };
        using var model = QwenImageVaeTestModels.Seeded(config, seed: 43);
        Assert.Equal(encoderAttention ? 2 : 0, model.encoder.down_blocks.Count(b => b is QwenImageAttentionBlock));
        using var scope = NewDisposeScope();
        var reference = new QwenImageAutoencoderReference(QwenImageVaeTestModels.StateOf(model));
        using var noGrad = no_grad();
        var images = Images(7);

        var latents = model.Encode(images);

        Assert.Equal([2L, config.ZDim, 4, 4], latents.shape);
        for (int b = 0; b < 2; b++)
        {
            var expected = reference.EncodeNormalised(QwenImageVaeTestModels.OneFrame(images, b), config.LatentsMean, config.LatentsStd);
            double difference = QwenImageVaeTestModels.MaxDifference(latents[b], expected);
            Assert.True(difference < Tolerance, $"sample {b}: max |ours - reference| = {difference:E2}");
            Assert.True(expected.V.Select(Math.Abs).Max() > 0.1, "the reference latent is not trivially small");
        }
    }

    [Fact]
    public void Bfloat16ModelStaysCloseToTheReference()
    {
        // The same weights rounded to bfloat16 on both sides; the bfloat16 model rounds every activation (8 bits of
        // mantissa, 4e-3 relative) through ~20 layers, and runs its 8- and 3-channel spatial convolutions in float32
        // (ConvolutionPrecision). Measured: 6.9e-3 decoding, 2.7e-3 encoding; the wrong temporal slice moves outputs by 0.27 and more.
        const double bfloat16Tolerance = 0.03;
        var config = QwenImageVaeTestModels.Tiny;
        using var source = QwenImageVaeTestModels.Seeded(config, seed: 47);
        using var model = new QwenImageAutoencoder(config, ScalarType.BFloat16);
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            foreach (var (key, value) in model.state_dict()) value.copy_(source.state_dict()[key]);
        }
        var reference = new QwenImageAutoencoderReference(QwenImageVaeTestModels.StateOf(model));
        using var noGrad = no_grad();
        var latents = Latents(config, 9);
        var images = Images(11);

        var decoded = model.Decode(latents);
        var encoded = model.Encode(images);

        Assert.Equal(ScalarType.BFloat16, decoded.dtype);
        Assert.Equal(ScalarType.BFloat16, encoded.dtype);
        for (int b = 0; b < 2; b++)
        {
            var expectedImage = reference.DecodeNormalised(QwenImageVaeTestModels.OneFrame(latents, b), config.LatentsMean, config.LatentsStd);
            double imageDifference = QwenImageVaeTestModels.MaxDifference(decoded[b], expectedImage);
            Assert.True(imageDifference < bfloat16Tolerance, $"decode, sample {b}: max |ours - reference| = {imageDifference:E2}");
            var expectedLatent = reference.EncodeNormalised(QwenImageVaeTestModels.OneFrame(images, b), config.LatentsMean, config.LatentsStd);
            double latentDifference = QwenImageVaeTestModels.MaxDifference(encoded[b], expectedLatent);
            Assert.True(latentDifference < bfloat16Tolerance, $"encode, sample {b}: max |ours - reference| = {latentDifference:E2}");
        }
    }

    [Fact]
    public void EarlierTemporalSlicesAndTimeConvWeightsDoNotReachASingleImage()
    {
        // What the reference shows by computing over zero frames, pinned directly: a checkpoint that differs only in
        // the temporal slices a first frame multiplies with zeros, or in time_conv, decodes and encodes identically.
        var config = QwenImageVaeTestModels.Tiny;
        using var model = QwenImageVaeTestModels.Seeded(config, seed: 53);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var latents = Latents(config, 13);
        var images = Images(17);
        var decodedBefore = model.Decode(latents);
        var encodedBefore = model.Encode(images);

        using var generator = new Generator(19, CPU);
        int changed = 0;
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (name.Contains("time_conv", StringComparison.Ordinal))
            {
                parameter.copy_(randn(parameter.shape, generator: generator));
                changed++;
            }
            else if (parameter.dim() == 5 && parameter.shape[2] > 1)
            {
                parameter.narrow(2, 0, parameter.shape[2] - 1).copy_(randn([.. parameter.shape[..2], parameter.shape[2] - 1, .. parameter.shape[3..]], generator: generator));
                changed++;
            }
        }

        Assert.True(changed > 20, $"only {changed} parameters were changed");
        Assert.True(model.Decode(latents).equal(decodedBefore).all().item<bool>(), "decode changed");
        Assert.True(model.Encode(images).equal(encodedBefore).all().item<bool>(), "encode changed");
        // The last slice does matter.
        var conv = model.decoder.conv_in.weight;
        conv.narrow(2, 2, 1).copy_(randn([.. conv.shape[..2], 1, .. conv.shape[3..]], generator: generator));
        Assert.False(model.Decode(latents).equal(decodedBefore).all().item<bool>(), "decode ignores the last temporal slice");
    }
}
