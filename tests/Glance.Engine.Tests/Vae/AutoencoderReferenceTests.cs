using Glance.Engine.Models.Flux;
using Glance.Engine.Runtime;
using Glance.Engine.Tests.Reference;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Vae;

/// <summary>
/// Our float32 autoencoder (BFL layout) against <see cref="AutoencoderReference"/>, a float64 loop implementation of
/// diffusers' AutoencoderKL fed the same weights under diffusers' names (<see cref="AutoencoderCheckpointNames.ToDiffusers"/>).
/// A wrong name mapping, level order, padding, norm or attention detail shows up as a mismatch.
/// </summary>
public class AutoencoderReferenceTests
{
    // Tolerance: float32 rounds each product and sum to 2^-24 (6e-8) relative. A convolution here sums at most
    // 64 * 9 = 576 products of O(1) terms, and about 15 such layers run in sequence with GroupNorms between them
    // rescaling to unit variance, so the rounding reaching outputs of magnitude ~1 stays near 1e-6 (measured: 1.1e-6
    // and 1.3e-6 for the decoders, 1.8e-6 for the encoder mean). 1e-4 leaves room for other libtorch kernels, while
    // a wrong layer moves the outputs by far more: swapping only q and k in the name mapping moved them by 6e-2 to 2e-1.
    const double Tolerance = 1e-4;

    static AutoencoderReference.Planes Sample(Tensor batch, int index)
    {
        var sample = batch[index];
        var values = sample.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        return new AutoencoderReference.Planes((int)sample.shape[0], (int)sample.shape[1], (int)sample.shape[2], values);
    }

    static double MaxDifference(Tensor ours, AutoencoderReference.Planes expected)
    {
        Assert.Equal([expected.C, expected.H, expected.W], ours.shape.Select(s => (int)s).ToArray());
        var actual = ours.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        return actual.Zip(expected.V, (a, e) => Math.Abs(a - e)).Max();
    }

    static AutoencoderReference ReferenceFor(AutoEncoder model, AutoencoderConfig config)
    {
        using var scope = NewDisposeScope();
        return new AutoencoderReference(AutoencoderCheckpointNames.ToDiffusers(VaeTestModels.StateOf(model), config));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void DecoderMatchesFloat64DiffusersDecoder(int resBlocks)
    {
        // Two levels (32 and 64 channels), 8x8 latents to 16x16 images; decoder levels hold resBlocks + 1 resnets.
        var config = VaeTestModels.TwoLevels with { NumResBlocks = resBlocks };
        using var model = VaeTestModels.Seeded(config, seed: 21 + resBlocks);
        var reference = ReferenceFor(model, config);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var generator = new Generator(4, CPU);
        var latent = randn([2, config.ZChannels, 8, 8], generator: generator);

        var image = model.decoder.forward(latent);

        Assert.Equal([2L, 3, 16, 16], image.shape);
        for (int b = 0; b < 2; b++)
        {
            var expected = reference.Decode(Sample(latent, b));
            double difference = MaxDifference(image[b], expected);
            Assert.True(difference < Tolerance, $"sample {b}: max |ours - reference| = {difference:E2}");
            Assert.True(expected.V.Select(Math.Abs).Max() > 0.1, "the reference output is not trivially small");
        }
    }

    [Fact]
    public void EncoderMeanMatchesFloat64DiffusersEncoder()
    {
        var config = VaeTestModels.TwoLevels;
        using var model = VaeTestModels.Seeded(config, seed: 31);
        var reference = ReferenceFor(model, config);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var generator = new Generator(6, CPU);
        var image = rand([2, 3, 16, 16], generator: generator).Times(2.0).Minus(1);

        var (mean, _) = model.EncodeDistribution(image);

        Assert.Equal([2L, config.ZChannels, 8, 8], mean.shape);
        for (int b = 0; b < 2; b++)
        {
            double difference = MaxDifference(mean[b], reference.EncodeMean(Sample(image, b)));
            Assert.True(difference < Tolerance, $"sample {b}: max |ours - reference| = {difference:E2}");
        }
    }
}
