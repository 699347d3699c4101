using static TorchSharp.torch;

namespace Glance.Engine.Pipeline;

/// <summary>Encoded prompts: per-token context [B, L, D] and one pooled vector per prompt [B, D].</summary>
public sealed class TextConditioning(Tensor context, Tensor pooled) : IDisposable
{
    public Tensor Context { get; } = context;
    public Tensor Pooled { get; } = pooled;

    public long Count => Context.shape[0];

    /// <summary>Row i as a batch of one, sharing storage.</summary>
    public TextConditioning Row(long i) => new(Context.narrow(0, i, 1), Pooled.narrow(0, i, 1));

    /// <summary>Detaches both tensors from the current dispose scope so they outlive it.</summary>
    public TextConditioning Keep()
    {
        Context.DetachFromDisposeScope();
        Pooled.DetachFromDisposeScope();
        return this;
    }

    public static TextConditioning Concat(IReadOnlyList<TextConditioning> parts) =>
        new(cat(parts.Select(p => p.Context).ToArray(), 0), cat(parts.Select(p => p.Pooled).ToArray(), 0));

    public void Dispose()
    {
        Context.Dispose();
        Pooled.Dispose();
    }
}
