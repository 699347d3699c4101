using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;
using Glance.Engine.Serving;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Pipeline;

/// <summary>
/// The engine's prompt-encoding cache on the tiny model, which runs true CFG by default: every request also encodes its
/// negative prompt ("" when none is sent), which the cache holds like any other text.
/// </summary>
public class PromptCacheEngineTests
{
    const string Circle = "a red circle";
    const string Square = "blue square";

    static GenerationSpec Spec(long seed, string prompt = Circle, string? negative = null) =>
        new(prompt, negative, 16, 16, seed, SamplingMode.Base, Steps: 2);

    static byte[] Image(TorchGlanceEngine engine, GenerationSpec spec) => GenerationRunner.Generate(engine, spec).Image.Rgb;

    static byte[] RunToImage(TorchGlanceEngine engine, GenerationState state)
    {
        while (!state.IsDenoised) engine.RunStep([state]);
        return engine.Decode([state])[0].Rgb;
    }

    static (long Hits, long Misses) Counts(TorchGlanceEngine engine) => (engine.PromptCache!.Hits, engine.PromptCache.Misses);

    /// <summary>One cached text's tensor bytes on the tiny model: context [1, MaxTextTokens, DModel] and the pooled mean [1, DModel], float32.</summary>
    static long RowBytes(GlanceModelConfig config) => (config.MaxTextTokens + 1L) * config.TextEncoder.DModel * sizeof(float);

    [Fact]
    public void SamePromptTwiceGivesIdenticalImagesWithTheCacheOnAndOff()
    {
        using var cached = new TorchGlanceEngine(TinyModels.Create(withAdapters: false));
        using var uncached = new TorchGlanceEngine(TinyModels.Create(withAdapters: false), options: new EngineOptions { PromptCacheMiB = 0 });
        Assert.Null(uncached.PromptCache);

        var on = new[] { Image(cached, Spec(5)), Image(cached, Spec(5)), Image(cached, Spec(5, Square)) };
        var off = new[] { Image(uncached, Spec(5)), Image(uncached, Spec(5)), Image(uncached, Spec(5, Square)) };

        Assert.Equal(on[0], on[1]);
        Assert.Equal(off, on);
        Assert.NotEqual(on[0], on[2]); // a cached text never stands in for another
        Assert.Equal((2, 3), (cached.TextEncoderBatches, cached.TextsEncoded)); // [circle, ""], nothing, [square]
        Assert.Equal((3, 6), (uncached.TextEncoderBatches, uncached.TextsEncoded));
    }

    [Fact]
    public void EachDistinctTextIsLookedUpOnceAndAllHitsSkipTheTextEncoders()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create(withAdapters: false));
        var first = engine.Start([Spec(1), Spec(2), Spec(3, Square)]);
        Assert.Equal((0, 3), Counts(engine)); // circle, square and "" (the negative prompt of all three)
        Assert.Equal((1, 3), (engine.TextEncoderBatches, engine.TextsEncoded));

        var second = engine.Start([Spec(4, Square), Spec(5)]);
        Assert.Equal((3, 3), Counts(engine));
        Assert.Equal((1, 3), (engine.TextEncoderBatches, engine.TextsEncoded));

        var third = engine.Start([Spec(6, "a red circle on a gray background")]);
        Assert.Equal((4, 4), Counts(engine));
        Assert.Equal((2, 4), (engine.TextEncoderBatches, engine.TextsEncoded)); // the new prompt alone was encoded

        static TorchGenerationState Own(GenerationState state) => (TorchGenerationState)state;
        Assert.True(Own(second[1]).Conditional.Context.allclose(Own(first[0]).Conditional.Context, rtol: 0, atol: 0));
        Assert.True(Own(second[1]).Conditional.Pooled!.allclose(Own(first[1]).Conditional.Pooled!, rtol: 0, atol: 0));
        Assert.True(Own(second[0]).Negative!.Context.allclose(Own(first[2]).Negative!.Context, rtol: 0, atol: 0));
        Assert.False(Own(second[0]).Conditional.Context.allclose(Own(second[1]).Conditional.Context, rtol: 0, atol: 0));
        foreach (var state in first.Concat(second).Concat(third)) state.Dispose();
    }

    [Fact]
    public void ANegativePromptAndAPromptOfTheSameTextShareOneEntry()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create(withAdapters: false));
        var withNegative = Image(engine, Spec(3, Circle, negative: Square));
        Assert.Equal((0, 2), Counts(engine));

        var squareImage = Image(engine, Spec(3, Square));
        Assert.Equal((1, 3), Counts(engine)); // square: hit; "": miss
        Assert.Equal(3, engine.TextsEncoded);

        using var fresh = new TorchGlanceEngine(TinyModels.Create(withAdapters: false));
        Assert.Equal(Image(fresh, Spec(3, Square)), squareImage);
        Assert.Equal(Image(fresh, Spec(3, Circle, negative: Square)), withNegative);
    }

    [Fact]
    public void AFinishedRequestLeavesTheCachedEncodingUsable()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create(withAdapters: false));
        var first = engine.Start([Spec(7)])[0];
        byte[] expected = RunToImage(engine, first);
        first.Dispose(); // disposes its conditioning, as the server does when a request ends

        // Two requests of one text in one start share one encoding; one ends before the other runs.
        var pair = engine.Start([Spec(7), Spec(7)]);
        pair[0].Dispose();
        Assert.Equal(expected, RunToImage(engine, pair[1]));
        pair[1].Dispose();

        Assert.Equal(expected, Image(engine, Spec(7)));
        Assert.Equal((1, 2), (engine.TextEncoderBatches, engine.TextsEncoded));
        Assert.Equal((4, 2), Counts(engine));
    }

    [Fact]
    public void EvictionByBytesDisposesTheOldestAndALaterMissEncodesAgain()
    {
        var model = TinyModels.Create(withAdapters: false);
        long row = RowBytes(model.Config);
        using var engine = new TorchGlanceEngine(model, promptCacheEntries: 100, promptCacheBytes: 2 * row);
        var cache = engine.PromptEncodings!;

        byte[] circle = Image(engine, Spec(9));
        Assert.Equal(["", Circle], cache.Keys);
        Assert.Equal(2 * row, cache.Bytes);
        var storedCircle = cache.Peek(Circle)!;

        byte[] square = Image(engine, Spec(9, Square)); // "" is used again, so the circle is the least recently used
        Assert.Equal([Square, ""], cache.Keys);
        Assert.True(storedCircle.Context.IsInvalid && storedCircle.Pooled!.IsInvalid, "the evicted encoding was not disposed");

        Assert.Equal(circle, Image(engine, Spec(9)));
        Assert.Equal([Circle, ""], cache.Keys);
        Assert.Equal((3, 4), (engine.TextEncoderBatches, engine.TextsEncoded));
        Assert.Equal((2, 4), Counts(engine));
        Assert.NotEqual(circle, square);
    }
}
