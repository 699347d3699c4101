using Glance.Engine.Pipeline;
using Glance.Engine.Sampling;
using Glance.Engine.Serving;
using Glance.Mini.World;

namespace Glance.Mini.Evaluation;

/// <summary>One way of sampling compared by the evaluation.</summary>
/// <param name="Adapters">False runs the Glance plan on the base weights (adapters switched off).</param>
public sealed record EvalMode(string Name, SamplingMode Mode, int? Steps = null, bool Adapters = true)
{
    public static IReadOnlyList<EvalMode> Standard { get; } =
    [
        new("base-50", SamplingMode.Base, 50),
        new("base-10", SamplingMode.Base, 10),
        new("glance", SamplingMode.Glance),
        new("glance-no-adapters", SamplingMode.Glance, Adapters: false),
    ];
}

/// <summary>Figures of one mode over the evaluation prompts.</summary>
/// <param name="MeanPsnr">Mean PSNR (dB) against base-50 for the same prompt and seed; identical images count as 100 dB.</param>
/// <param name="MeanMillisecondsPerImage">Mean end-to-end wall time, prompt to PNG, one image at a time.</param>
public sealed record ModeResult(string Mode, int Steps, SceneScore Accuracy, double MeanPsnr, double MeanMillisecondsPerImage, double SpeedupOverBase50);

/// <summary>
/// The Glance claim on glance-mini: held-out prompts, the same seeds for every mode; base with 50 and 10
/// steps, Glance (5 Slow + 5 Fast) and Glance with adapters switched off; attribute accuracy by the shapes
/// detector, PSNR against base-50, and end-to-end time per image.
/// </summary>
public static class GlanceEvaluation
{
    public const double IdenticalPsnr = 100;

    public static (IReadOnlyList<ModeResult> Results, IReadOnlyList<IReadOnlyList<DecodedImage>> ImagesByScene) Run(
        TorchGlanceEngine engine, IReadOnlyList<SceneSpec> scenes, long seed, IReadOnlyList<EvalMode> modes, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(scenes);
        ArgumentNullException.ThrowIfNull(modes);
        ArgumentNullException.ThrowIfNull(log);
        if (modes.Count == 0 || modes[0].Name != "base-50")
            throw new ArgumentException("The first mode must be base-50: every other mode is compared with it.", nameof(modes));

        var d = engine.Description;
        var images = scenes.Select(_ => new DecodedImage[modes.Count]).ToArray();
        var millis = modes.Select(_ => new List<double>()).ToArray();
        var planSteps = new int[modes.Count];
        engine.WarmUp();
        // Prompt-major: every prompt runs all modes back to back, so machine-speed drift over the run (seen: +-25%
        // between identical runs on a shared 2-core VM) lands on every mode alike instead of skewing the speed-ups.
        for (int i = 0; i < scenes.Count; i++)
        {
            for (int m = 0; m < modes.Count; m++)
            {
                var spec = new GenerationSpec(scenes[i].Caption, null, d.DefaultWidth, d.DefaultHeight, seed + i, modes[m].Mode, modes[m].Steps);
                var plan = modes[m].Adapters
                    ? engine.PlanFor(spec)
                    : PlanBuilder.Glance(engine.Model.Profile.Schedule, engine.Model.ImageSeqLen(spec.Width, spec.Height), null, null);
                planSteps[m] = plan.StepCount;
                var result = GenerationRunner.Run(engine, () => engine.Start([(spec, plan)]));
                images[i][m] = result.Image;
                millis[m].Add(result.Total.TotalMilliseconds);
            }
        }
        for (int m = 0; m < modes.Count; m++)
            log($"{modes[m].Name}: {scenes.Count} images, {millis[m].Average():F1} ms per image");

        double baseMillis = millis[0].Average();
        var results = new List<ModeResult>(modes.Count);
        for (int m = 0; m < modes.Count; m++)
        {
            var score = SceneEvaluator.Score(scenes.Select((s, i) => (s, images[i][m])));
            double psnr = scenes.Select((_, i) => Math.Min(IdenticalPsnr, ImageMetrics.Psnr(images[i][m], images[i][0]))).Average();
            double ms = millis[m].Average();
            results.Add(new ModeResult(modes[m].Name, planSteps[m], score, psnr, ms, baseMillis / ms));
        }
        return (results, images);
    }

    /// <summary>Per mode, the mean PSNR between two runs of the same prompts and seeds (e.g. two precisions); identical images count as 100 dB.</summary>
    public static IReadOnlyList<double> PsnrPerMode(IReadOnlyList<IReadOnlyList<DecodedImage>> first, IReadOnlyList<IReadOnlyList<DecodedImage>> second, IReadOnlyList<EvalMode> modes)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentNullException.ThrowIfNull(modes);
        if (first.Count != second.Count) throw new ArgumentException($"The runs cover {first.Count} and {second.Count} prompts; expected the same prompts.", nameof(second));
        return modes.Select((_, m) => first.Select((row, i) => Math.Min(IdenticalPsnr, ImageMetrics.Psnr(row[m], second[i][m]))).Average()).ToArray();
    }
}
