using System.Diagnostics.CodeAnalysis;
using Glance.Engine.Serving;
using static TorchSharp.torch;

namespace Glance.Engine.Pipeline;

/// <summary>
/// Encoded prompts, least recently used dropped first, within a number of entries and of tensor bytes. Each entry is
/// one text's row: context [1, L, D] and pooled [1, D], on the model's device.
/// </summary>
/// <remarks>
/// The key is the exact text alone: an engine's cache serves one loaded model, whose text settings (encoders with
/// their device and precision, tokenizers, token length, padding mask) are fixed when it loads, and a prompt and a
/// negative prompt of the same text encode alike. Ownership: the cache owns what it stores (its own copies, outside every dispose scope) and disposes
/// an entry when it evicts it, when the text is added again, or when the cache is disposed; <see cref="TryGet"/> hands
/// out a copy that the caller owns. So a request that disposes its conditioning never touches a cached tensor, and an
/// eviction never touches what a caller holds. Not thread-safe: the engine thread alone calls it; only
/// <see cref="Counters"/> may be read from other threads.
/// </remarks>
public sealed class PromptEncodingCache : IDisposable
{
    readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);
    readonly LinkedList<Entry> _recency = new(); // most recently used first

    public PromptEncodingCache(int maxEntries, long maxBytes, PromptCacheCounters? counters = null)
    {
        if (maxEntries <= 0) throw new ArgumentOutOfRangeException(nameof(maxEntries), maxEntries, "expected at least one entry");
        if (maxBytes <= 0) throw new ArgumentOutOfRangeException(nameof(maxBytes), maxBytes, "expected a positive number of bytes");
        MaxEntries = maxEntries;
        MaxBytes = maxBytes;
        Counters = counters ?? new PromptCacheCounters();
    }

    public int MaxEntries { get; }
    public long MaxBytes { get; }
    public PromptCacheCounters Counters { get; }
    public int Count => _entries.Count;

    /// <summary>Tensor bytes held: the sum over entries of context and pooled elements times their element size.</summary>
    public long Bytes { get; private set; }

    /// <summary>The cached texts, most recently used first (reading them changes nothing).</summary>
    public IReadOnlyList<string> Keys => [.. _recency.Select(e => e.Text)];

    /// <summary>
    /// On a hit, marks the text most recently used, counts a hit and returns a copy of its encoding that the caller owns
    /// (in the caller's dispose scope, if any); on a miss, counts a miss.
    /// </summary>
    public bool TryGet(string text, [NotNullWhen(true)] out TextConditioning? encoding)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!_entries.TryGetValue(text, out var node))
        {
            Counters.CountMiss();
            encoding = null;
            return false;
        }
        _recency.Remove(node);
        _recency.AddFirst(node);
        Counters.CountHit();
        encoding = node.Value.Encoding.Clone();
        return true;
    }

    /// <summary>
    /// Stores a copy of one text's encoding (the caller keeps its own), evicting least recently used entries until both
    /// limits hold. An encoding larger than <see cref="MaxBytes"/> by itself is not stored (returns false).
    /// </summary>
    public bool Add(string text, TextConditioning encoding)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(encoding);
        if (encoding.Count != 1)
            throw new ArgumentException($"A cache entry is one text's row; received a batch of {encoding.Count}.", nameof(encoding));
        if (_entries.TryGetValue(text, out var existing)) Remove(existing);
        long bytes = encoding.Bytes;
        if (bytes > MaxBytes) return false;
        while (_entries.Count >= MaxEntries || Bytes + bytes > MaxBytes) Remove(_recency.Last!);

        var copy = encoding.Clone().Keep();
        _entries[text] = _recency.AddFirst(new Entry(text, copy, bytes));
        Bytes += bytes;
        return true;
    }

    /// <summary>The cache's own stored encoding of a text, without marking or counting anything (tests check its disposal).</summary>
    internal TextConditioning? Peek(string text) => _entries.TryGetValue(text, out var node) ? node.Value.Encoding : null;

    void Remove(LinkedListNode<Entry> node)
    {
        _recency.Remove(node);
        _entries.Remove(node.Value.Text);
        Bytes -= node.Value.Bytes;
        node.Value.Encoding.Dispose();
    }

    public void Dispose()
    {
        while (_recency.Last is { } last) Remove(last);
    }

    sealed record Entry(string Text, TextConditioning Encoding, long Bytes);
}
