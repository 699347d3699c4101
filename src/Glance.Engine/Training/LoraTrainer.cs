using Glance.Engine.Pipeline;
using Glance.Engine.Serving;

namespace Glance.Engine.Training;

/// <summary>The Glance recipe for one phase adapter, trained on exactly one image-caption pair.</summary>
/// <param name="Phase">"slow" or "fast": which five plan sigmas the training draws its timesteps from.</param>
/// <param name="Targets">Transformer modules the adapter covers (BFL paths or diffusers names); null takes the model recipe's (<see cref="DiffusionModel.TrainingRecipe"/>).</param>
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

/// <summary>Trains one phase adapter in one call (the CLI's way); servers step a <see cref="LoraTrainingRun"/> themselves.</summary>
public static class LoraTrainer
{
    /// <summary>Trains the adapter and leaves it attached to the model under <paramref name="adapterName"/>, frozen.</summary>
    public static TrainingProgress Train(DiffusionModel model, string adapterName, DecodedImage image, string caption, LoraTrainingOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        using var run = new LoraTrainingRun(model, image, caption, [options], _ => adapterName);
        var progress = new TrainingProgress($"lora-{options.Phase}", options.Steps, log, TimeSpan.FromSeconds(10));
        while (!run.IsDone)
        {
            double loss = run.TrainStep();
            progress.Report(run.StepsDone, loss);
        }
        run.KeepAdapters();
        return progress;
    }
}
