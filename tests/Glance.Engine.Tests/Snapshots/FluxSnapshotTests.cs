using Glance.Engine.Models.Flux;
using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;
using Glance.Engine.Serving;
using static TorchSharp.torch;
using static Glance.Engine.Tests.Snapshots.SnapshotAssertions;

namespace Glance.Engine.Tests.Snapshots;

/// <summary>Loading unmodified FLUX.1 snapshots (tiny, random, in the real Hugging Face layout) end to end.</summary>
public sealed class FluxSnapshotTests : IDisposable
{
    static readonly EngineOptions Cpu = new() { Device = "cpu", DType = "float32" };
    readonly string _root = Path.Combine(Path.GetTempPath(), "glance-flux-snapshot-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    string Folder(string name) => Path.Combine(_root, name);

    [Theory]
    [InlineData(FluxVariant.Dev, FluxWeightsLayout.Diffusers)]
    [InlineData(FluxVariant.Dev, FluxWeightsLayout.BflSingleFiles)]
    [InlineData(FluxVariant.Schnell, FluxWeightsLayout.Diffusers)]
    public void EveryNetworkLoadsTheWeightsTheSnapshotHolds(FluxVariant variant, FluxWeightsLayout layout)
    {
        using var builder = FluxSnapshotBuilder.Create(variant);
        string folder = builder.Write(Folder("snapshot"), layout);
        using var loaded = GlanceModel.Load(folder, Cpu);

        AssertSameWeights(builder.Model.Transformer, loaded.Transformer);
        AssertSameWeights(builder.Model.Autoencoder, loaded.Autoencoder);
        AssertSameWeights(builder.Model.TextEncoder, loaded.TextEncoder);
        AssertSameWeights(builder.Model.PooledTextEncoder!, loaded.PooledTextEncoder!);
    }

    [Fact]
    public void WeightsStoredInTheServedDtypeAreReadStraightIntoTheParametersUnchanged()
    {
        // bfloat16 files into a bfloat16 model take the loader's direct path (no staging tensor, no conversion).
        using var builder = FluxSnapshotBuilder.Create(FluxVariant.Dev);
        using var loaded = GlanceModel.Load(builder.Write(Folder("snapshot")), Cpu with { DType = "bfloat16" });

        Assert.Equal(ScalarType.BFloat16, loaded.Transformer.parameters().First().dtype);
        AssertSameWeights(builder.Model.Transformer, loaded.Transformer);
        AssertSameWeights(builder.Model.Autoencoder, loaded.Autoencoder);
        AssertSameWeights(builder.Model.TextEncoder, loaded.TextEncoder);
        AssertSameWeights(builder.Model.PooledTextEncoder!, loaded.PooledTextEncoder!);
    }

    [Fact]
    public void ArchitectureAndScheduleComeFromTheSnapshotFiles()
    {
        using var builder = FluxSnapshotBuilder.Create(FluxVariant.Dev);
        var snapshot = FluxSnapshot.Open(builder.Write(Folder("dev")));
        var config = FluxSnapshotLoading.Compose(snapshot);

        Assert.Equal(builder.Model.Config.Transformer with { AxesDim = [] }, config.Transformer with { AxesDim = [] });
        Assert.Equal(builder.Model.Config.Transformer.AxesDim, config.Transformer.AxesDim);
        Assert.Equal(FluxSnapshotBuilder.ClipConfig, config.PooledTextEncoder);
        Assert.Equal(FluxSnapshotBuilder.T5Config, config.TextEncoder);
        Assert.True(config.Schedule.DynamicShift);
        Assert.Equal((0.5, 1.15, 256, 4096), (config.Schedule.BaseShift, config.Schedule.MaxShift, config.Schedule.BaseSeqLen, config.Schedule.MaxSeqLen));
        Assert.Equal(512, config.MaxTextTokens);
        Assert.False(config.MaskTextPadding);
        Assert.False(config.Guidance.TrueCfg);
        Assert.Equal(3.5, config.Guidance.DefaultScale);
        Assert.Equal(50, config.DefaultBaseSteps);
        Assert.Equal("dev", Path.GetFileName(config.Name));
    }

    [Fact]
    public void SchnellHasNoGuidanceNoShiftFourStepsAnd256Tokens()
    {
        using var builder = FluxSnapshotBuilder.Create(FluxVariant.Schnell);
        var config = FluxSnapshotLoading.Compose(FluxSnapshot.Open(builder.Write(Folder("schnell"))));

        Assert.False(config.Transformer.GuidanceEmbed);
        Assert.False(config.Schedule.DynamicShift);
        Assert.Equal(1.0, config.Schedule.FixedShift);
        Assert.Equal(4, config.DefaultBaseSteps);
        Assert.Equal(256, config.MaxTextTokens);
        Assert.Equal(0, config.Guidance.MaxScale);
    }

    [Fact]
    public void MaxSequenceLengthIsConfigurableUpTo512()
    {
        using var builder = FluxSnapshotBuilder.Create(FluxVariant.Schnell);
        var snapshot = FluxSnapshot.Open(builder.Write(Folder("schnell")));
        Assert.Equal(512, FluxSnapshotLoading.Compose(snapshot, 512).MaxTextTokens);
        var error = Assert.Throws<ArgumentException>(() => FluxSnapshotLoading.Compose(snapshot, 513));
        Assert.Contains("513", error.Message, StringComparison.Ordinal);
        Assert.Contains("512", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DiffusersAndBflLayoutsOfTheSameWeightsGiveTheSameImages()
    {
        using var builder = FluxSnapshotBuilder.Create(FluxVariant.Dev);
        using var diffusers = new TorchGlanceEngine(GlanceModel.Load(builder.Write(Folder("diffusers")), Cpu));
        using var bfl = new TorchGlanceEngine(GlanceModel.Load(builder.Write(Folder("bfl"), FluxWeightsLayout.BflSingleFiles), Cpu));
        var spec = new GenerationSpec("a lighthouse on a cliff at dawn", null, 16, 16, 7, SamplingMode.Base, Steps: 2);

        var fromDiffusers = GenerationRunner.Generate(diffusers, spec);
        var fromBfl = GenerationRunner.Generate(bfl, spec);

        Assert.Equal(fromDiffusers.Png, fromBfl.Png);
        Assert.Equal((16, 16), (fromDiffusers.Image.Width, fromDiffusers.Image.Height));
    }

    [Fact]
    public void GlanceModeWithoutAdaptersRunsTheTenStepPlanOnTheBaseWeightsAndSaysSo()
    {
        using var builder = FluxSnapshotBuilder.Create(FluxVariant.Schnell);
        using var engine = new TorchGlanceEngine(GlanceModel.Load(builder.Write(Folder("schnell")), Cpu));
        var spec = new GenerationSpec("a red apple", null, 16, 16, 1, SamplingMode.Glance);

        var plan = engine.PlanFor(spec);
        var result = GenerationRunner.Generate(engine, spec);

        Assert.Equal(10, plan.StepCount);
        Assert.All(plan.Phases, phase => Assert.Null(phase.Adapter));
        Assert.Contains("without the slow and fast adapters", engine.Description.GlanceNote, StringComparison.Ordinal);
        Assert.Contains(result.Timings, t => t.Key == "slow");
        Assert.Contains(result.Timings, t => t.Key == "fast");
    }

    [Fact]
    public void PromptsLongerThanClipKeepsAreReportedWithTheirTokenCounts()
    {
        using var builder = FluxSnapshotBuilder.Create(FluxVariant.Schnell);
        using var engine = new TorchGlanceEngine(GlanceModel.Load(builder.Write(Folder("schnell")), Cpu));
        string longPrompt = string.Join(", ", Enumerable.Repeat("a lighthouse on a cliff", 20));

        var states = engine.Start([new GenerationSpec(longPrompt, null, 16, 16, 1, SamplingMode.Base, Steps: 1), new GenerationSpec("short", null, 16, 16, 1, SamplingMode.Base, Steps: 1)]);
        try
        {
            var cut = Assert.Single(states[0].Truncations);
            Assert.Equal(("prompt", "clip", 77), (cut.Field, cut.Encoder, cut.Kept));
            Assert.True(cut.Tokens > 77, $"{cut.Tokens} tokens");
            Assert.Empty(states[1].Truncations);
        }
        finally
        {
            foreach (var state in states) state.Dispose();
        }
    }

    [Fact]
    public void TextEncodersCanRunInTheirOwnPrecisionAndHandTheModelItsOwn()
    {
        using var builder = FluxSnapshotBuilder.Create(FluxVariant.Schnell);
        string folder = builder.Write(Folder("schnell"));
        using var model = GlanceModel.Load(folder, Cpu with { TextEncoderDevice = "cpu", TextEncoderDType = "bfloat16" });

        Assert.Equal(ScalarType.BFloat16, model.TextEncoder.shared.weight!.dtype);
        Assert.Equal(ScalarType.BFloat16, model.PooledTextEncoder!.parameters().First().dtype);
        Assert.Equal(ScalarType.Float32, model.Transformer.parameters().First().dtype);
        using var text = model.EncodeText(["a lighthouse"]);
        Assert.Equal((ScalarType.Float32, ScalarType.Float32), (text.Context.dtype, text.Pooled!.dtype));

        using var float32 = GlanceModel.Load(folder, Cpu);
        using var reference = float32.EncodeText(["a lighthouse"]);
        double scale = reference.Context.abs().max().item<float>();
        double worst = (text.Context - reference.Context).abs().max().item<float>();
        Assert.True(worst < 0.05 * scale, $"bfloat16 text encoders differ by {worst} (scale {scale})");
    }
}
