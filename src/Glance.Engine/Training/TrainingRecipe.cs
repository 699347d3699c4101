using Glance.Engine.Serving;

namespace Glance.Engine.Training;

/// <summary>
/// A family's Glance adapter recipe (REFERENCE.md section 1): rank, alpha as a multiple of the rank, constant AdamW
/// rate, steps per phase and the modules covered. A request may override the rank, rate, steps and targets.
/// </summary>
/// <param name="TrainingGuidance">The distilled guidance fed during training (FLUX.1-dev: 1); ignored by models without it.</param>
public sealed record TrainingRecipe(int Rank, double AlphaPerRank, double LearningRate, int Steps, string Targets, double TrainingGuidance = 1.0)
{
    /// <summary>FLUX.1-dev's (and glance-mini's): rank 16, alpha 64, 5e-4, 60 steps, to_q/to_k/to_v/to_out.0.</summary>
    public static TrainingRecipe Flux { get; } = new(16, 4, 5e-4, 60, LoraTargetSets.Attention);

    /// <summary>Qwen-Image's: rank 32, alpha = 4 x rank, 3e-4, 60 steps, attention, modulation and MLP outputs of both streams.</summary>
    public static TrainingRecipe QwenImage { get; } = new(32, 4, 3e-4, 60, LoraTargetSets.Broad);

    /// <summary>The recipe of a model family (<see cref="ModelFamilies"/>): Qwen-Image's, else FLUX.1's.</summary>
    public static TrainingRecipe ForFamily(string family) => family == ModelFamilies.QwenImage ? QwenImage : Flux;

    /// <summary>What a spec trains with: its overrides, else this recipe.</summary>
    public AdapterTrainingSettings Settings(AdapterTrainingSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int rank = spec.Rank ?? Rank;
        return new AdapterTrainingSettings(spec.Steps ?? Steps, rank, AlphaPerRank * rank, spec.LearningRate ?? LearningRate, spec.Targets ?? Targets, spec.Image.Width, spec.Image.Height);
    }

    /// <summary>The options of one phase: the recipe with a request's overrides.</summary>
    public LoraTrainingOptions For(string phase, IReadOnlyList<string> targets, int? rank = null, double? learningRate = null, int? steps = null, long seed = 1)
    {
        int r = rank ?? Rank;
        return new LoraTrainingOptions(phase, r, AlphaPerRank * r, learningRate ?? LearningRate, steps ?? Steps, Seed: seed, Targets: targets);
    }
}
