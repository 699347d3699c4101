using Glance.Engine.Sampling;

namespace Glance.Engine.Tests;

public class SamplingPlanTests
{
    [Theory]
    [InlineData("flux", 1024, 1024)]
    [InlineData("qwen-image", 1024, 1024)]
    [InlineData("flux", 512, 768)]
    public void GlancePlanSigmaIncrementsAddUpToOne(string preset, int width, int height)
    {
        var samplerPreset = SamplerPresets.Get(preset);
        var plan = PlanBuilder.Glance(samplerPreset.Schedule, samplerPreset.ImageSeqLen(width, height));
        double travelled = plan.Steps().Sum(s => s.Sigma - s.NextSigma);
        Assert.Equal(1.0, travelled, 12);
    }

    [Fact]
    public void GlancePlanUsesBaseIndicesAndHandsOverBetweenPhases()
    {
        double[] baseSigmas = FlowMatchSchedule.Sigmas(50, SamplerPresets.Flux.Schedule, 4096);
        var plan = PlanBuilder.Glance(SamplerPresets.Flux.Schedule, 4096);
        Assert.Equal(new[] { "slow", "fast" }, plan.Phases.Select(p => p.Name));
        Assert.Equal(new[] { 0, 2, 4, 6, 8 }.Select(i => baseSigmas[i]), plan.Phases[0].Sigmas);
        Assert.Equal(new[] { 10, 20, 30, 40, 49 }.Select(i => baseSigmas[i]), plan.Phases[1].Sigmas);

        var steps = plan.Steps();
        Assert.Equal(10, steps.Count);
        Assert.Equal(baseSigmas[10], steps[4].NextSigma); // the last Slow step goes to the first Fast sigma
        Assert.Equal(0.0, steps[^1].NextSigma);
        Assert.All(steps.Take(5), s => Assert.Equal("slow", s.Adapter));
        Assert.All(steps.Skip(5), s => Assert.Equal("fast", s.Adapter));
    }

    [Fact]
    public void BasePlanHasOnePhaseWithoutAdapter()
    {
        var plan = PlanBuilder.Base(SamplerPresets.Flux.Schedule, 256, steps: 7);
        var phase = Assert.Single(plan.Phases);
        Assert.Null(phase.Adapter);
        Assert.Equal(7, plan.StepCount);
        Assert.Equal(1.0, plan.Steps().Sum(s => s.Sigma - s.NextSigma), 12);
    }

    [Fact]
    public void TimestepsAreThousandTimesSigma()
    {
        var phase = new PlanPhase("x", null, [1.0, 0.5]);
        Assert.Equal(new[] { 1000.0, 500.0 }, phase.Timesteps);
    }

    [Fact]
    public void CustomPlanRejectsIndexOutsideBaseSchedule()
    {
        double[] baseSigmas = FlowMatchSchedule.Sigmas(10, SamplerPresets.Flux.Schedule, 256);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => PlanBuilder.FromIndices(baseSigmas, ("a", null, [0, 10])));
        Assert.Contains("base index 10", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PlanRejectsNonDecreasingSigmas() =>
        Assert.Throws<ArgumentException>(() => new SamplingPlan([new PlanPhase("a", null, [0.5, 0.7])]));
}
