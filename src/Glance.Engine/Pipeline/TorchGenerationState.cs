using Glance.Engine.Serving;
using static TorchSharp.torch;

namespace Glance.Engine.Pipeline;

/// <summary>A request in flight inside <see cref="TorchGlanceEngine"/>: its latents and encoded prompts.</summary>
internal sealed class TorchGenerationState : GenerationState
{
    public TorchGenerationState(TorchGlanceEngine owner, GenerationSpec spec, IReadOnlyList<PlannedStep> plan,
        Tensor latents, TextConditioning conditional, TextConditioning? negative, double guidance)
        : base(spec, plan)
    {
        Owner = owner;
        Latents = latents;
        Conditional = conditional;
        Negative = negative;
        GuidanceScale = guidance;
    }

    public TorchGlanceEngine Owner { get; }

    /// <summary>Packed latents [L, C], float32, on the model's device.</summary>
    public Tensor Latents { get; private set; }

    public TextConditioning Conditional { get; }

    /// <summary>Negative-prompt conditioning when the sample runs true CFG; null otherwise.</summary>
    public TextConditioning? Negative { get; }

    public double GuidanceScale { get; }

    public void ReplaceLatents(Tensor next)
    {
        Latents.Dispose();
        Latents = next;
    }

    public void MarkStepDone() => Advance();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Latents.Dispose();
            Conditional.Dispose();
            Negative?.Dispose();
        }
        base.Dispose(disposing);
    }
}
