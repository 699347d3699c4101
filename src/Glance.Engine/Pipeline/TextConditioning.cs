using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Pipeline;

/// <summary>
/// Encoded prompts: per-token context [B, T, D], for FLUX-family models one pooled vector per prompt [B, D], and for
/// models whose prompts keep their own lengths (Qwen-Image) a token mask [B, T] (1 = token, 0 = padding on the right).
/// A null mask means every position is a token; a null pooled vector means the model takes none.
/// </summary>
public sealed class TextConditioning(Tensor context, Tensor? pooled, Tensor? mask = null) : IDisposable
{
    public Tensor Context { get; } = context;
    public Tensor? Pooled { get; } = pooled;
    public Tensor? Mask { get; } = mask;

    public long Count => Context.shape[0];

    /// <summary>Bytes its tensors hold (the prompt cache's budget).</summary>
    public long Bytes => new[] { Context, Pooled, Mask }.Sum(t => t is null ? 0 : t.NumberOfElements * t.ElementSize);

    /// <summary>
    /// Row i as a batch of one, sharing storage. With a mask, the row is cut to its own tokens (right padding) and
    /// carries no mask, so that a cached row joins any later batch with only the padding that batch needs.
    /// </summary>
    public TextConditioning Row(long i)
    {
        var context = Context.narrow(0, i, 1);
        if (Mask is null) return new(context, Pooled?.narrow(0, i, 1));
        long tokens = Mask[i].to(ScalarType.Int64).sum().item<long>();
        return new(context.narrow(1, 0, Math.Max(tokens, 1)), Pooled?.narrow(0, i, 1));
    }

    /// <summary>Copies of its tensors, in the current dispose scope.</summary>
    public TextConditioning Clone() => new(Context.clone(), Pooled?.clone(), Mask?.clone());

    /// <summary>Detaches its tensors from the current dispose scope so they outlive it.</summary>
    public TextConditioning Keep()
    {
        Context.DetachFromDisposeScope();
        Pooled?.DetachFromDisposeScope();
        Mask?.DetachFromDisposeScope();
        return this;
    }

    /// <summary>
    /// The rows as one batch. Rows of one length without masks concatenate as they are (no mask, as a pipeline passes
    /// for prompts of equal length); otherwise contexts are right-padded with zeros to the longest and a mask says which
    /// positions are tokens.
    /// </summary>
    public static TextConditioning Concat(IReadOnlyList<TextConditioning> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0) throw new ArgumentException("Concat needs at least one part.", nameof(parts));
        if (parts.Any(p => p.Pooled is null) && parts.Any(p => p.Pooled is not null))
            throw new ArgumentException("Either every part has a pooled vector or none does.", nameof(parts));
        var pooled = parts[0].Pooled is null ? null : cat(parts.Select(p => p.Pooled!).ToArray(), 0);
        long longest = parts.Max(p => p.Context.shape[1]);
        if (parts.All(p => p.Mask is null && p.Context.shape[1] == longest))
            return new(cat(parts.Select(p => p.Context).ToArray(), 0), pooled);

        var contexts = new List<Tensor>(parts.Count);
        var masks = new List<Tensor>(parts.Count);
        foreach (var part in parts)
        {
            long length = part.Context.shape[1];
            var mask = part.Mask?.to(ScalarType.Int64) ?? ones(part.Count, length, ScalarType.Int64, part.Context.device);
            contexts.Add(length == longest ? part.Context : nn.functional.pad(part.Context, [0, 0, 0, longest - length]));
            masks.Add(length == longest ? mask : nn.functional.pad(mask, [0, longest - length]));
        }
        return new(cat(contexts.ToArray(), 0), pooled, cat(masks.ToArray(), 0));
    }

    public void Dispose()
    {
        Context.Dispose();
        Pooled?.Dispose();
        Mask?.Dispose();
    }
}
