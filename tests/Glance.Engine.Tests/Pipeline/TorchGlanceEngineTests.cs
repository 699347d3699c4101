using Glance.Engine.Sampling;
using Glance.Engine.Imaging;
using Glance.Engine.Lora;
using Glance.Engine.Pipeline;
using Glance.Engine.Serving;
using Glance.Engine.Tests.Reference;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Pipeline;

public class TorchGlanceEngineTests
{
    static GenerationSpec Spec(long seed, string prompt = "a red circle", SamplingMode mode = SamplingMode.Glance, int size = 16, int? steps = null) =>
        new(prompt, null, size, size, seed, mode, steps);

    static void RunToEnd(TorchGlanceEngine engine, IReadOnlyList<GenerationState> states)
    {
        while (states.Any(s => !s.IsDenoised)) engine.RunStep(states.Where(s => !s.IsDenoised).ToArray());
    }

    static Tensor LatentsOf(GenerationState state) => ((TorchGenerationState)state).Latents;

    [Fact]
    public void WarmUpWorksOnAModelWithoutGlanceAdapters()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create(withAdapters: false));
        engine.WarmUp();
        var glance = engine.Start([Spec(1)]);
        Assert.All(glance[0].Plan, step => Assert.Null(step.Adapter));
        Assert.Equal(10, glance[0].Plan.Count);
        glance[0].Dispose();
        Assert.NotNull(engine.Description.GlanceNote);
        var state = engine.Start([Spec(1, mode: SamplingMode.Base, steps: 2)]);
        RunToEnd(engine, state);
        Assert.Equal(16 * 16 * 3, engine.Decode(state)[0].Rgb.Length);
    }

    [Fact]
    public void WarmUpLeavesTheNextGenerationUnchanged()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create());
        var before = GenerationRunner.Generate(engine, Spec(5)).Image;
        engine.WarmUp();
        Assert.Equal(before.Rgb, GenerationRunner.Generate(engine, Spec(5)).Image.Rgb);
    }

    [Fact]
    public void SameSeedGivesSameImageWhateverElseIsInTheBatch()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create());
        var alone = engine.Start([Spec(42)]);
        RunToEnd(engine, alone);
        var crowd = engine.Start([Spec(7, "blue square"), Spec(42), Spec(9, "a red circle on a gray background")]);
        RunToEnd(engine, crowd);

        var imageAlone = engine.Decode(alone)[0];
        var imageInCrowd = engine.Decode(crowd)[1];
        Assert.True(LatentsOf(alone[0]).allclose(LatentsOf(crowd[1]), rtol: 1e-4, atol: 1e-5));
        Assert.Equal(imageAlone.Rgb, imageInCrowd.Rgb);
        Assert.NotEqual(imageAlone.Rgb, engine.Decode(crowd)[0].Rgb);
        foreach (var s in alone.Concat(crowd)) s.Dispose();
    }

    [Fact]
    public void MixedSlowAndFastBatchEqualsEachSampleAlone()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create());
        (GenerationState Fast, GenerationState Slow) Prepare()
        {
            var ahead = engine.Start([Spec(1)])[0];
            for (int i = 0; i < 5; i++) engine.RunStep([ahead]); // now in the Fast phase
            var fresh = engine.Start([Spec(2, "blue square")])[0];
            return (ahead, fresh);
        }

        var (fastA, slowA) = Prepare();
        Assert.Equal("fast", fastA.NextStep!.Adapter);
        Assert.Equal("slow", slowA.NextStep!.Adapter);
        engine.RunStep([fastA, slowA]);

        var (fastB, slowB) = Prepare();
        engine.RunStep([fastB]);
        engine.RunStep([slowB]);

        Assert.True(LatentsOf(fastA).allclose(LatentsOf(fastB), rtol: 1e-4, atol: 1e-5));
        Assert.True(LatentsOf(slowA).allclose(LatentsOf(slowB), rtol: 1e-4, atol: 1e-5));
        foreach (var s in new[] { fastA, slowA, fastB, slowB }) s.Dispose();
    }

    [Fact]
    public void AdaptersChangeTheResultOfTheirPhase()
    {
        using var withAdapters = new TorchGlanceEngine(TinyModels.Create(withAdapters: true));
        var plan = withAdapters.PlanFor(Spec(5));
        var noAdapters = Glance.Engine.Sampling.PlanBuilder.Glance(withAdapters.Model.Profile.Schedule, withAdapters.Model.ImageSeqLen(16, 16), null, null);
        var a = withAdapters.Start([(Spec(5), plan)])[0];
        var b = withAdapters.Start([(Spec(5), noAdapters)])[0];
        withAdapters.RunStep([a, b]);
        Assert.False(LatentsOf(a).allclose(LatentsOf(b), atol: 1e-4));
        a.Dispose();
        b.Dispose();
    }

    [Fact]
    public void GlancePlanRunsFiveSlowThenFiveFastSteps()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create());
        var state = engine.Start([Spec(3)])[0];
        Assert.Equal(10, state.Plan.Count);
        Assert.Equal(Enumerable.Repeat("slow", 5).Concat(Enumerable.Repeat("fast", 5)), state.Plan.Select(s => s.Adapter));
        Assert.Equal(1.0, state.Plan.Sum(s => s.Sigma - s.NextSigma), 9);
        state.Dispose();
    }

    /// <summary>
    /// One true-CFG step against the formula, computed outside the engine from the model's two velocities: the prompt's
    /// v_c and the negative prompt's v_n at the step's sigma, comb = v_n + s (v_c - v_n) with the request's scale
    /// (rescaled per token to ||v_c|| when the model asks for it), then x + (sigma_next - sigma) comb in float64.
    /// </summary>
    /// <remarks>In Glance mode the step runs with the phase's adapter: both rows, prompt and negative prompt, must.</remarks>
    [Theory]
    [InlineData(false, SamplingMode.Base)]
    [InlineData(true, SamplingMode.Base)]
    [InlineData(false, SamplingMode.Glance)]
    public void TrueCfgStepMovesByTheGuidedVelocityOfPromptAndNegativePrompt(bool normRescale, SamplingMode samplingMode)
    {
        var config = GlanceModelPresets.Tiny with { Guidance = GlanceModelPresets.Tiny.Guidance with { NormRescale = normRescale } };
        using var engine = new TorchGlanceEngine(TinyModels.Create(withAdapters: samplingMode == SamplingMode.Glance, config));
        const double scale = 4.5;
        var spec = Spec(5, "a red circle", samplingMode, steps: samplingMode == SamplingMode.Base ? 2 : null) with { NegativePrompt = "blue square", Guidance = scale };
        using var state = engine.Start([spec])[0];
        using var start = LatentsOf(state).clone();
        var step = state.NextStep!;
        Assert.Equal(samplingMode == SamplingMode.Glance ? "slow" : null, step.Adapter);
        engine.RunStep([state]);

        using var scope = NewDisposeScope();
        using var mode = inference_mode();
        var sigma = tensor(new[] { (float)step.Sigma });
        Tensor Velocity(string prompt)
        {
            using var text = engine.Model.EncodeText([prompt]);
            using var routing = engine.Model.Routing.Route([step.Adapter], engine.Model.Device);
            return engine.Model.PredictVelocity(start.unsqueeze(0), sigma, text, 16, 16)[0];
        }
        var c = TensorRows.Of(Velocity("a red circle"));
        var n = TensorRows.Of(Velocity("blue square"));
        var x = TensorRows.Of(start);
        var actual = TensorRows.Of(LatentsOf(state));
        for (int token = 0; token < x.Length; token++)
        {
            var comb = GuidanceReference.Combine(c[token], n[token], scale, normRescale);
            for (int f = 0; f < comb.Length; f++)
            {
                double expected = x[token][f] + (step.NextSigma - step.Sigma) * comb[f];
                Assert.True(Math.Abs(expected - actual[token][f]) <= 1e-4, $"token {token}, feature {f}: {actual[token][f]} instead of {expected}");
            }
        }
    }

    [Fact]
    public void NegativePromptIsUsedAsSentAndASpaceIsNotNothing()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create(withAdapters: false, tokenizer: new CharacterTokenizer()));
        byte[] Image(string? negative) =>
            GenerationRunner.Generate(engine, Spec(9, mode: SamplingMode.Base, steps: 2) with { NegativePrompt = negative }).Image.Rgb;

        var absent = Image(null);
        Assert.Equal(absent, Image(""));
        Assert.NotEqual(absent, Image(" "));
        Assert.NotEqual(absent, Image("blue square"));
        Assert.NotEqual(Image(" "), Image("blue square"));
    }

    [Fact]
    public void BaseModeRunsTheRequestedStepsWithoutAdapter()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create());
        var state = engine.Start([Spec(3, mode: SamplingMode.Base, steps: 4)])[0];
        Assert.Equal(4, state.Plan.Count);
        Assert.All(state.Plan, s => Assert.Null(s.Adapter));
        state.Dispose();
    }

    [Fact]
    public void GenerationRunnerReportsEveryStageAndAValidPng()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create());
        var result = GenerationRunner.Generate(engine, Spec(11));
        Assert.Equal(new[] { "encode", "slow", "fast", "decode", "png" }, result.Timings.Select(t => t.Key));
        var decoded = PngEncoding.Decode(new MemoryStream(result.Png));
        Assert.Equal(result.Image.Rgb, decoded.Rgb);
    }

    [Fact]
    public void ModelFolderRoundTripGivesIdenticalImages()
    {
        string folder = Path.Combine(Path.GetTempPath(), "glance-roundtrip-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var original = new TorchGlanceEngine(TinyModels.Create());
            ((GlanceModel)original.Model).Save(folder);
            Directory.CreateDirectory(Path.Combine(folder, GlanceModel.AdaptersFolder));
            foreach (string adapter in original.Model.Adapters)
                LoraFile.WritePeft(original.Model.Denoiser, adapter, Path.Combine(folder, GlanceModel.AdaptersFolder, adapter + ".safetensors"));

            using var loaded = new TorchGlanceEngine(GlanceModel.Load(folder, new Runtime.EngineOptions { Device = "cpu" }));
            Assert.Equal(new[] { "fast", "slow" }, loaded.Model.Adapters);
            var expected = GenerationRunner.Generate(original, Spec(21)).Image;
            var actual = GenerationRunner.Generate(loaded, Spec(21)).Image;
            Assert.Equal(expected.Rgb, actual.Rgb);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void MergedAdapterGivesTheSameStepAsRoutedAdapter()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create());
        var routed = engine.Start([Spec(8)])[0];
        engine.RunStep([routed]);

        LoraAttacher.Merge(engine.Model.Denoiser, "slow");
        var merged = engine.Start([(Spec(8), Glance.Engine.Sampling.PlanBuilder.Glance(engine.Model.Profile.Schedule, engine.Model.ImageSeqLen(16, 16), null, null))])[0];
        engine.RunStep([merged]);
        LoraAttacher.Unmerge(engine.Model.Denoiser, "slow");

        Assert.True(LatentsOf(routed).allclose(LatentsOf(merged), rtol: 1e-4, atol: 1e-5));
        routed.Dispose();
        merged.Dispose();
    }

    [Fact]
    public void DistilledGuidanceModelFeedsTheScaleToTheTransformer()
    {
        var config = GlanceModelPresets.Tiny with
        {
            Transformer = GlanceModelPresets.Tiny.Transformer with { GuidanceEmbed = true },
            Guidance = new GuidanceConfig(TrueCfg: false, DefaultScale: 3.5, MaxScale: 10),
        };
        using var engine = new TorchGlanceEngine(TinyModels.Create(withAdapters: false, config));
        var low = engine.Start([Spec(4, mode: SamplingMode.Base, steps: 2) with { Guidance = 1.0 }])[0];
        var high = engine.Start([Spec(4, mode: SamplingMode.Base, steps: 2) with { Guidance = 6.0 }])[0];
        engine.RunStep([low, high]);
        Assert.False(LatentsOf(low).allclose(LatentsOf(high), atol: 1e-5));
        low.Dispose();
        high.Dispose();
    }

    [Fact]
    public void StepRejectsMixedResolutions()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create());
        var states = engine.Start([Spec(1, size: 16), Spec(2, size: 32)]);
        Assert.Throws<ArgumentException>(() => engine.RunStep(states));
        foreach (var s in states) s.Dispose();
    }

    [Fact]
    public void DecodeBeforeTheLastStepFails()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create());
        var state = engine.Start([Spec(1)])[0];
        Assert.Throws<InvalidOperationException>(() => engine.Decode([state]));
        state.Dispose();
    }

    [Fact]
    public void AnExplicitPlanNamingAnUnknownAdapterFailsAtStart()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create(withAdapters: false));
        var spec = Spec(1);
        var plan = PlanBuilder.Glance(engine.Model.Profile.Schedule, engine.Model.ImageSeqLen(spec.Width, spec.Height));
        var error = Assert.Throws<InvalidOperationException>(() => engine.Start([(spec, plan)]));
        Assert.Contains("slow", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bfloat16ModelRunsTheWholePipelineCloseToFloat32()
    {
        using var fp32 = new TorchGlanceEngine(TinyModels.Create(withAdapters: false));
        string folder = Path.Combine(Path.GetTempPath(), "glance-bf16-" + Guid.NewGuid().ToString("N"));
        try
        {
            ((GlanceModel)fp32.Model).Save(folder);
            using var bf16 = new TorchGlanceEngine(GlanceModel.Load(folder, new Runtime.EngineOptions { Device = "cpu", DType = "bfloat16" }));
            Assert.Equal("BFloat16", bf16.Description.DType);
            var spec = Spec(6, mode: SamplingMode.Base, steps: 3);
            var expected = GenerationRunner.Generate(fp32, spec).Image;
            var actual = GenerationRunner.Generate(bf16, spec).Image;
            double meanError = expected.Rgb.Zip(actual.Rgb, (a, b) => Math.Abs(a - b)).Average();
            // Sequential bfloat16 roundings on the longest path: text encoder (1 layer) about 12, each of the 3
            // transformer steps (1 double + 1 single block) about 30, decoder (2 levels) about 45: 150 in all. Pixels
            // are 127.5 * (y + 1), so the mean error in levels is bounded by 127.5 * sqrt(150) * u * mean|y|, 1.55
            // levels here; measured 0.51 on AVX512-BF16 and AVX2 alike, 9.2 with the faulty output convolution.
            double meanMagnitude = expected.Rgb.Average(level => Math.Abs(level / 127.5 - 1));
            double bound = 127.5 * Bfloat16Bounds.Sequential(12 + 3 * 30 + 45) * meanMagnitude;
            Assert.True(meanError <= bound, $"bfloat16 image differs from float32 by {meanError:F2} levels on average (bound {bound:F2})");
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    // One model for both paths: a second randomly initialised model could differ, because model creation seeds the
    // global generator that tests in other classes draw from concurrently.
    static void UseMergedWeightCache(TorchGlanceEngine engine, bool enabled)
    {
        foreach (var layer in LoraLayers.Of(engine.Model.Denoiser).Values) layer.CacheMergedWeights = enabled;
    }

    [Fact]
    public void CachedMergedWeightsGiveTheSameStepsAsTheRoutedLowRankPath()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create());
        Assert.True(engine.Model.UsesMergedWeightCache);

        GenerationState Run(bool cache)
        {
            UseMergedWeightCache(engine, cache);
            var state = engine.Start([Spec(13)])[0];
            for (int i = 0; i < 7; i++) engine.RunStep([state]); // through the Slow phase into the Fast one
            return state;
        }

        using var routed = Run(cache: false);
        using var cached = Run(cache: true);
        Assert.True(LatentsOf(cached).allclose(LatentsOf(routed), rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void MixedSlowAndFastBatchWithCachedWeightsMatchesTheRoutedPath()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create());

        GenerationState[] Run(bool cache)
        {
            UseMergedWeightCache(engine, cache);
            var ahead = engine.Start([Spec(21)])[0];
            for (int i = 0; i < 6; i++) engine.RunStep([ahead]); // into the Fast phase
            var behind = engine.Start([Spec(22), Spec(23)]);
            GenerationState[] batch = [behind[0], ahead, behind[1]]; // Slow, Fast, Slow: rows the engine regroups
            engine.RunStep(batch);
            engine.RunStep(batch);
            return batch;
        }

        var expected = Run(cache: false);
        var actual = Run(cache: true);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(LatentsOf(actual[i]).allclose(LatentsOf(expected[i]), rtol: 1e-4, atol: 1e-5), $"sample {i} differs");
            actual[i].Dispose();
            expected[i].Dispose();
        }
    }
}
