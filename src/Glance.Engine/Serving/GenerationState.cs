namespace Glance.Engine.Serving;

/// <summary>
/// A request in flight inside an engine: its plan and how far it has got. The engine subclasses it to hold
/// its tensors (latents, text conditioning); everything a scheduler needs to decide batching is here.
/// Only the engine's thread may touch a state's tensors.
/// </summary>
public abstract class GenerationState : IDisposable
{
    protected GenerationState(GenerationSpec spec, IReadOnlyList<PlannedStep> plan)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Count == 0) throw new ArgumentException("A plan needs at least one step; received 0.", nameof(plan));
        Spec = spec;
        Plan = plan;
    }

    public GenerationSpec Spec { get; }
    public IReadOnlyList<PlannedStep> Plan { get; }

    /// <summary>The encoders that cut this request's prompts (none when everything fitted).</summary>
    public IReadOnlyList<PromptTruncation> Truncations { get; init; } = [];

    /// <summary>Index into <see cref="Plan"/> of the next step to run; equals Plan.Count once denoised.</summary>
    public int StepIndex { get; private set; }

    public bool IsDenoised => StepIndex >= Plan.Count;

    /// <summary>The step that runs next; null once denoised.</summary>
    public PlannedStep? NextStep => IsDenoised ? null : Plan[StepIndex];

    /// <summary>Called by the engine after it ran <see cref="NextStep"/> for this request.</summary>
    protected internal void Advance()
    {
        if (IsDenoised) throw new InvalidOperationException($"The request already ran all {Plan.Count} steps.");
        StepIndex++;
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}
