using System.ComponentModel.DataAnnotations;

namespace Glance.Api.Options;

/// <summary>How many requests share one engine step and how many may be in flight at once.</summary>
internal sealed class BatchingOptions : IValidatableObject
{
    public const string Section = "Glance:Batching";

    /// <summary>Requests in one engine step at most. 16 measured best for glance-mini on CPU (README); large models on a GPU want fewer.</summary>
    [Range(1, 256)]
    public int MaxBatchSize { get; set; } = 16;

    /// <summary>Started requests held by the engine at most, all resolutions together.</summary>
    [Range(1, 1024)]
    public int MaxRunning { get; set; } = 16;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MaxRunning < MaxBatchSize)
            yield return new ValidationResult(
                $"MaxRunning ({MaxRunning}) must be at least MaxBatchSize ({MaxBatchSize}), or no batch could ever fill.",
                [nameof(MaxRunning)]);
    }
}
