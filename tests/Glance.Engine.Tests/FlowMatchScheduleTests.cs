using Glance.Engine.Sampling;

namespace Glance.Engine.Tests;

public class FlowMatchScheduleTests
{
    // Hand-computed from the recipe: linspace(1, 1/50, 50), mu = m * seq + b, s' = e^mu / (e^mu + 1/s - 1).
    [Fact]
    public void FluxScheduleAt1024MatchesHandComputedValues()
    {
        double[] sigmas = FlowMatchSchedule.Sigmas(50, SamplerPresets.Flux.Schedule, imageSeqLen: 4096);
        Assert.Equal(50, sigmas.Length);
        Assert.Equal(1.0, sigmas[0], 9);
        Assert.Equal(0.986979, sigmas[2], 6);
        Assert.Equal(0.926647, sigmas[10], 6);
        Assert.Equal(0.441200, sigmas[40], 6);
        Assert.Equal(0.060550, sigmas[49], 6);
    }

    [Fact]
    public void DynamicShiftInterpolatesInTokenCount()
    {
        Assert.Equal(0.5, FlowMatchSchedule.Mu(256, SamplerPresets.Flux.Schedule), 12);
        Assert.Equal(1.15, FlowMatchSchedule.Mu(4096, SamplerPresets.Flux.Schedule), 12);
        Assert.Equal(0.63, FlowMatchSchedule.Mu(1024, SamplerPresets.Flux.Schedule), 12);
        double[] sigmas = FlowMatchSchedule.Sigmas(50, SamplerPresets.Flux.Schedule, imageSeqLen: 1024);
        Assert.Equal(0.882497, sigmas[10], 6);
    }

    [Fact]
    public void QwenTerminalStretchEndsAtTerminalSigma()
    {
        double[] fiveSteps = FlowMatchSchedule.Sigmas(5, SamplerPresets.QwenImage.Schedule, imageSeqLen: 4096);
        Assert.Equal(new[] { 1.0, 0.8367, 0.6326, 0.3701, 0.02 }, fiveSteps.Select(s => Math.Round(s, 4)));
        double[] fifty = FlowMatchSchedule.Sigmas(50, SamplerPresets.QwenImage.Schedule, imageSeqLen: 4096);
        Assert.Equal(0.02, fifty[^1], 12);
        Assert.Equal(0.886705, fifty[10], 6);
    }

    [Fact]
    public void StaticShiftMapsLikeTheClosedForm()
    {
        var config = new FlowMatchScheduleConfig(DynamicShift: false, FixedShift: 3.0);
        double[] sigmas = FlowMatchSchedule.Sigmas(4, config, imageSeqLen: 0);
        // s = 0.5 -> 3 * 0.5 / (1 + 2 * 0.5) = 0.75
        Assert.Equal(0.75, sigmas[2], 12);
        Assert.Equal(1.0, sigmas[0], 12);
    }

    [Fact]
    public void UnshiftedScheduleIsLinspace()
    {
        var config = new FlowMatchScheduleConfig(DynamicShift: false);
        Assert.Equal(new[] { 1.0, 0.75, 0.5, 0.25 }, FlowMatchSchedule.Sigmas(4, config, imageSeqLen: 0).Select(s => Math.Round(s, 12)));
    }

    [Fact]
    public void ZeroStepsAreRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => FlowMatchSchedule.Sigmas(0, SamplerPresets.Flux.Schedule, 4096));
}
