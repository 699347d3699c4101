namespace Glance.Engine.Serving;

/// <summary>
/// An adapter set to train on one image-caption pair (the Glance recipe): each listed phase gets its own adapter,
/// trained one after the other. Unset hyper-parameters take the loaded model's recipe.
/// </summary>
/// <param name="SetName">The set the trained files will form (a valid <see cref="AdapterSets"/> name).</param>
/// <param name="Image">The one training image, already at a size the model accepts.</param>
/// <param name="Phases">"slow" and/or "fast", in training order.</param>
/// <param name="Targets">A target set name ("attention" or "broad"); null: the recipe's.</param>
public sealed record AdapterTrainingSpec(
    string SetName,
    DecodedImage Image,
    string Caption,
    IReadOnlyList<string> Phases,
    int? Steps = null,
    int? Rank = null,
    double? LearningRate = null,
    string? Targets = null,
    long Seed = 1);

/// <summary>The hyper-parameters a training run uses, once the recipe's defaults are filled in.</summary>
public sealed record AdapterTrainingSettings(int StepsPerPhase, int Rank, double Alpha, double LearningRate, string Targets, int Width, int Height);
