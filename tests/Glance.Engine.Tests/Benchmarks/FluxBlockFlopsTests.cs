using Glance.Cli.Benchmarks;
using Glance.Engine.Models.Flux;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Benchmarks;

public class FluxBlockFlopsTests
{
    // Hidden H = 4, 2 heads of 2, MLP M = 2 * 4 = 8.
    static readonly FluxConfig Small = new(
        InChannels: 4, VecInDim: 4, ContextInDim: 4, HiddenSize: 4, MlpRatio: 2.0, NumHeads: 2,
        Depth: 1, DepthSingleBlocks: 1, AxesDim: [2], Theta: 10_000, QkvBias: true, GuidanceEmbed: false);

    [Fact]
    public void DoubleBlockCountsEveryLinearOfBothStreamsAndJointAttention()
    {
        // Per sample, 3 image tokens and 1 text token (L = 4), a Linear being 2 * tokens * in * out:
        //   img_mod  2 * 1 * 4 * 24 = 192     txt_mod  2 * 1 * 4 * 24 = 192
        //   img qkv  2 * 3 * 4 * 12 = 288     txt qkv  2 * 1 * 4 * 12 =  96
        //   img proj 2 * 3 * 4 * 4  =  96     txt proj 2 * 1 * 4 * 4  =  32
        //   img mlp  2 * 3 * 4 * 8 * 2 = 384 txt mlp  2 * 1 * 4 * 8 * 2 = 128
        //   attention 2 * 2 * heads 2 * L^2 16 * headDim 2 = 256
        // = 1664 per sample; batch 2 -> 3328.
        Assert.Equal(3328, FluxBlockFlops.DoubleBlock(Small, batch: 2, imageTokens: 3, textTokens: 1));
    }

    [Fact]
    public void SingleBlockCountsModulationBothLinearsAndAttentionOverTheJointSequence()
    {
        // Per sample, L = 3 + 1 = 4 tokens:
        //   modulation 2 * 1 * 4 * 12          =  96
        //   linear1    2 * 4 * 4 * (12 + 8)    = 640
        //   attention  2 * 2 * 2 * 16 * 2      = 256
        //   linear2    2 * 4 * (4 + 8) * 4     = 384
        // = 1376 per sample; batch 2 -> 2752.
        Assert.Equal(2752, FluxBlockFlops.SingleBlock(Small, batch: 2, imageTokens: 3, textTokens: 1));
    }

    [Fact]
    public void WithOneTokenPerStreamTheLinearsCountTwoFlopsPerWeightOfTheRealBlocks()
    {
        // Distinct sizes (H 8, M 24, 2 heads of 4) so that a layer counted with the wrong width shows.
        var config = new FluxConfig(
            InChannels: 4, VecInDim: 4, ContextInDim: 4, HiddenSize: 8, MlpRatio: 3.0, NumHeads: 2,
            Depth: 1, DepthSingleBlocks: 1, AxesDim: [2, 2], Theta: 10_000, QkvBias: true, GuidanceEmbed: false);
        using var doubleBlock = new DoubleStreamBlock(config, ScalarType.Float32, CPU);
        using var singleBlock = new SingleStreamBlock(config, ScalarType.Float32, CPU);

        // One image and one text token: attention over L = 2 is 2 * 2 * 2 heads * 4 * 4 = 128.
        Assert.Equal(2 * MatrixWeights(doubleBlock) + 128, FluxBlockFlops.DoubleBlock(config, batch: 1, imageTokens: 1, textTokens: 1));
        // One token in all: attention over L = 1 is 2 * 2 * 2 heads * 1 * 4 = 32.
        Assert.Equal(2 * MatrixWeights(singleBlock) + 32, FluxBlockFlops.SingleBlock(config, batch: 1, imageTokens: 1, textTokens: 0));
    }

    [Theory]
    [InlineData(512, 1024)]
    [InlineData(1024, 4096)]
    public void SquareImagesHaveOneTokenPerSixteenBySixteenPixels(int size, long tokens) =>
        Assert.Equal(tokens, FluxBlockTimer.ImageTokens(size));

    [Fact]
    public void TimerRunsBothBlockKindsOnInputsOfTheRealShapes()
    {
        // Three RoPE axes, as the image and text position ids have.
        var config = Small with { HiddenSize = 12, AxesDim = [2, 2, 2] };
        using var timer = new FluxBlockTimer(config, ScalarType.Float32, CPU);
        var times = timer.Time(batch: 2, imageSize: 32, textTokens: 3, warmup: 0, iterations: 1);
        Assert.True(times.DoubleMs > 0, $"double block took {times.DoubleMs} ms");
        Assert.True(times.SingleMs > 0, $"single block took {times.SingleMs} ms");
    }

    /// <summary>Elements of the block's 2-D parameters: the Linear weights (biases and norm scales are vectors).</summary>
    static long MatrixWeights(nn.Module block) => block.parameters().Where(p => p.dim() == 2).Sum(p => p.numel());
}
