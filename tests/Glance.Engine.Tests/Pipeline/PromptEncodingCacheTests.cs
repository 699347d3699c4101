using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Pipeline;

public class PromptEncodingCacheTests
{
    // Context [1, 2, 3] and pooled [1, 3] in float32: (6 + 3) * 4 bytes.
    const long RowBytes = 36;

    static TextConditioning Row(float value) =>
        new(TensorArithmetic.Filled([1, 2, 3], value, ScalarType.Float32, CPU), TensorArithmetic.Filled([1, 3], value, ScalarType.Float32, CPU));

    static void Add(PromptEncodingCache cache, string text, float value)
    {
        using var row = Row(value);
        Assert.True(cache.Add(text, row));
    }

    static float ValueOf(PromptEncodingCache cache, string text)
    {
        Assert.True(cache.TryGet(text, out var copy));
        using (copy) return copy.Context[0, 0, 0].item<float>();
    }

    [Fact]
    public void EntryLimitEvictsTheLeastRecentlyUsed()
    {
        using var cache = new PromptEncodingCache(maxEntries: 2, maxBytes: 1 << 20);
        Add(cache, "a", 1);
        Add(cache, "b", 2);
        Assert.Equal(1, ValueOf(cache, "a")); // a is now more recent than b
        Add(cache, "c", 3);

        Assert.Equal(["c", "a"], cache.Keys);
        Assert.False(cache.TryGet("b", out _));
        Assert.Equal(3, ValueOf(cache, "c"));
    }

    [Fact]
    public void ByteLimitEvictsTheLeastRecentlyUsedAndDisposesIt()
    {
        using var cache = new PromptEncodingCache(maxEntries: 100, maxBytes: 2 * RowBytes + RowBytes / 2);
        Add(cache, "a", 1);
        Add(cache, "b", 2);
        Assert.Equal(2 * RowBytes, cache.Bytes);
        var storedA = cache.Peek("a")!;
        var storedB = cache.Peek("b")!;

        Add(cache, "c", 3);

        Assert.Equal(["c", "b"], cache.Keys);
        Assert.Equal(2 * RowBytes, cache.Bytes);
        Assert.True(storedA.Context.IsInvalid && storedA.Pooled!.IsInvalid, "the evicted entry's tensors were not disposed");
        Assert.False(storedB.Context.IsInvalid);
    }

    [Fact]
    public void AnEncodingLargerThanTheWholeBudgetIsNotStoredAndEvictsNothing()
    {
        using var cache = new PromptEncodingCache(maxEntries: 10, maxBytes: RowBytes);
        Add(cache, "small", 1);
        using var large = new TextConditioning(zeros(1, 4, 3), zeros(1, 3));

        Assert.False(cache.Add("large", large));
        Assert.Equal(["small"], cache.Keys);
        Assert.Equal(RowBytes, cache.Bytes);
    }

    [Fact]
    public void HitsAndMissesAreCountedPerLookup()
    {
        using var cache = new PromptEncodingCache(maxEntries: 10, maxBytes: 1 << 20);
        Assert.False(cache.TryGet("a", out _));
        Add(cache, "a", 1);
        _ = ValueOf(cache, "a");
        _ = ValueOf(cache, "a");
        Assert.False(cache.TryGet("b", out _));

        Assert.Equal((2, 2), (cache.Counters.Hits, cache.Counters.Misses));
    }

    [Fact]
    public void CallersOwnTheirCopiesAndTheCacheOwnsItsOwn()
    {
        using var cache = new PromptEncodingCache(maxEntries: 10, maxBytes: 1 << 20);
        var source = Row(1);
        Assert.True(cache.Add("a", source));
        source.Context.FillInPlace(7);
        source.Dispose(); // the caller's own tensors, gone; the entry stays

        Assert.True(cache.TryGet("a", out var first));
        first.Context.FillInPlace(9);
        first.Dispose(); // as a finished request disposes its conditioning

        Assert.Equal(1, ValueOf(cache, "a"));
    }

    [Fact]
    public void AddingATextAgainReplacesItsEntry()
    {
        using var cache = new PromptEncodingCache(maxEntries: 10, maxBytes: 1 << 20);
        Add(cache, "a", 1);
        var old = cache.Peek("a")!;
        Add(cache, "a", 2);

        Assert.Equal(["a"], cache.Keys);
        Assert.Equal(RowBytes, cache.Bytes);
        Assert.True(old.Context.IsInvalid);
        Assert.Equal(2, ValueOf(cache, "a"));
    }

    [Fact]
    public void TextsAreKeyedExactly()
    {
        using var cache = new PromptEncodingCache(maxEntries: 10, maxBytes: 1 << 20);
        Add(cache, "a red circle", 1);
        Assert.False(cache.TryGet("A red circle", out _));
        Assert.False(cache.TryGet("a red circle ", out _));
        Assert.False(cache.TryGet("", out _));
    }

    [Fact]
    public void DisposingTheCacheDisposesEveryEntry()
    {
        var cache = new PromptEncodingCache(maxEntries: 10, maxBytes: 1 << 20);
        Add(cache, "a", 1);
        Add(cache, "b", 2);
        var stored = new[] { cache.Peek("a")!, cache.Peek("b")! };
        cache.Dispose();

        Assert.All(stored, s => Assert.True(s.Context.IsInvalid && s.Pooled!.IsInvalid));
        Assert.Equal(0, cache.Count);
        Assert.Equal(0, cache.Bytes);
    }

    [Fact]
    public void ABatchOfRowsIsRefused()
    {
        using var cache = new PromptEncodingCache(maxEntries: 10, maxBytes: 1 << 20);
        using var two = new TextConditioning(zeros(2, 2, 3), zeros(2, 3));
        Assert.Throws<ArgumentException>(() => cache.Add("a", two));
    }
}
