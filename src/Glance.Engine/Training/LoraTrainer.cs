using Glance.Engine.Runtime;
using Glance.Engine.Imaging;
using Glance.Engine.Pipeline;
using Glance.Engine.Sampling;
using Glance.Engine.Serving;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Training;

/// <summary>The Glance recipe for one phase adapter, trained on exactly one image-caption pair.</summary>
/// <param name="Phase">"slow" or "fast": which five plan sigmas the training draws its timesteps from.</param>
/// <param name="Targets">Transformer modules the adapter covers (BFL paths or diffusers names); null takes <see cref="LoraTargetSets.AttentionTargets"/> (the FLUX.1-dev recipe).</param>
public sealed record LoraTrainingOptions(
    string Phase,
    int Rank = 16,
    double Alpha = 64,
    double LearningRate = 5e-4,
    int Steps = 60,
    double WeightDecay = 0.01,
    double CaptionDropout = 0.1,
    long Seed = 1,
    IReadOnlyList<string>? Targets = null);

/// <summary>
/// Trains a Slow or Fast adapter: x_t = (1 - s) x0 + s noise with s drawn uniformly from the five sigmas of
/// the phase in the Glance plan, target velocity noise - x0, plain MSE, AdamW at a constant rate, gradient
/// clipping 1.0; the base weights stay frozen.
/// </summary>
public static class LoraTrainer
{
    /// <summary>Phase sigmas of the Glance plan at this resolution: the only timesteps the adapter trains on.</summary>
    public static IReadOnlyList<double> PhaseSigmas(GlanceModel model, string phase, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(model);
        var plan = PlanBuilder.Glance(model.Config.Schedule, model.ImageSeqLen(width, height));
        return plan.Phases.FirstOrDefault(p => p.Name == phase)?.Sigmas
            ?? throw new ArgumentException($"Unknown phase '{phase}'; expected {PlanBuilder.SlowPhase} or {PlanBuilder.FastPhase}.", nameof(phase));
    }

    public static TrainingProgress Train(GlanceModel model, string adapterName, DecodedImage image, string caption, LoraTrainingOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        var sigmas = PhaseSigmas(model, options.Phase, image.Width, image.Height);

        random.manual_seed(options.Seed);
        var frozen = model.Transformer.parameters().Concat(model.TextEncoder.parameters()).ToArray();
        foreach (var p in frozen) p.requires_grad = false;
        var trainable = model.AddTrainableAdapter(adapterName, options.Targets ?? LoraTargetSets.AttentionTargets(model.Config.Transformer), options.Rank, options.Alpha, options.Seed);

        using var x0 = EncodeImage(model, image);
        using var optimizer = optim.AdamW(trainable, lr: options.LearningRate, weight_decay: options.WeightDecay);
        var pick = new Random((int)options.Seed);
        var progress = new TrainingProgress($"lora-{options.Phase}", options.Steps, log, TimeSpan.FromSeconds(10));
        model.Transformer.train();
        for (int step = 1; step <= options.Steps; step++)
        {
            using var scope = NewDisposeScope();
            double s = sigmas[pick.Next(sigmas.Count)];
            string prompt = pick.NextDouble() < options.CaptionDropout ? "" : caption;
            var noise = randn_like(x0);
            var xt = x0.Times(1 - s).Plus(noise.Times(s));
            using var text = EncodeFrozen(model, prompt);
            Tensor velocity;
            using (model.Transformer.Routing.Route([adapterName], model.Device))
            {
                velocity = model.PredictVelocity(xt, tensor(new[] { (float)s }, device: model.Device), text, image.Width, image.Height);
            }
            var loss = nn.functional.mse_loss(velocity, noise.sub(x0));
            optimizer.zero_grad();
            loss.backward();
            nn.utils.clip_grad_norm_(trainable, 1.0);
            optimizer.step();
            progress.Report(step, loss.item<float>());
        }
        model.Transformer.eval();
        foreach (var p in trainable) p.requires_grad = false;
        return progress;
    }

    static Tensor EncodeImage(GlanceModel model, DecodedImage image)
    {
        using var scope = NewDisposeScope();
        using var mode = no_grad();
        var pixels = tensor(PixelArrays.ToSignedUnitChw(image), [1, 3, image.Height, image.Width]);
        return model.EncodeToLatents(pixels).MoveToOuterDisposeScope();
    }

    static TextConditioning EncodeFrozen(GlanceModel model, string prompt)
    {
        using var mode = no_grad();
        return model.EncodeText([prompt]);
    }
}
