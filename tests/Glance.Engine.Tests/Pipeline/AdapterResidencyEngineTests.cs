using Glance.Engine.Lora;
using Glance.Engine.Pipeline;
using Glance.Engine.Sampling;
using Glance.Engine.Serving;

namespace Glance.Engine.Tests.Pipeline;

/// <summary>
/// Adapter sets kept on the device under a budget, least recently used offloaded first, on the tiny model. On the CPU
/// the pieces stay put unless a test asks the engine to move them anyway (CPU to CPU copies), so both paths are run.
/// </summary>
public sealed class AdapterResidencyEngineTests : IDisposable
{
    readonly TinyAdapterFolder _adapters = new();

    public void Dispose() => _adapters.Dispose();

    static GenerationSpec Spec(long seed, string? set) => MixedSetBatch.Spec(seed, set);

    /// <summary>
    /// The tiny model with a default set attached from files (so the engine manages it), under a budget of
    /// <paramref name="adapters"/> adapters' bytes (every adapter here has the same rank and targets); null: unlimited.
    /// </summary>
    TorchGlanceEngine Engine(int? adapters, bool movesPieces = false)
    {
        var model = TinyModels.Create(withAdapters: false);
        model.AttachAdapter(PlanBuilder.SlowPhase, _adapters.Write("default", PlanBuilder.SlowPhase, 21));
        model.AttachAdapter(PlanBuilder.FastPhase, _adapters.Write("default", PlanBuilder.FastPhase, 22));
        long adapterBytes = LoraLayers.Of(model.Transformer).Values
            .Sum(layer => layer.PiecesOf(PlanBuilder.SlowPhase).Sum(p => (p.Down.numel() + p.Up.numel()) * p.Down.ElementSize));
        var engine = new TorchGlanceEngine(model, 256, 64L << 20, ownsModel: true, residentAdapterBytes: adapters * adapterBytes);
        engine.Residency.MovesPieces = movesPieces;
        return engine;
    }

    void Attach(TorchGlanceEngine engine, string set, bool withFast = true, long seed = 30) =>
        engine.AttachAdapterSet(new AdapterSetFiles(set, _adapters.Write(set, PlanBuilder.SlowPhase, seed),
            withFast ? _adapters.Write(set, PlanBuilder.FastPhase, seed + 1) : null, set));

    static bool Resident(TorchGlanceEngine engine, string set) =>
        Assert.Single(engine.AdapterSets, s => s.Name == set).Residency!.Resident;

    static byte[] Image(TorchGlanceEngine engine, GenerationSpec spec) => GenerationRunner.Generate(engine, spec).Image.Rgb;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WithABudgetForOneSetABatchMixingThreeSetsAndTwoPhasesEqualsEachSampleRunAlone(bool movesPieces)
    {
        using var engine = Engine(adapters: 2, movesPieces);
        Attach(engine, "alpha", seed: 31);
        Attach(engine, "beta", withFast: false, seed: 41);
        int exceeded = 0;
        engine.AdapterResidency.BudgetExceeded += (_, e) =>
        {
            exceeded++;
            Assert.True(e.NeededBytes > e.BudgetBytes);
        };
        var together = MixedSetBatch.Run(engine);

        var specs = MixedSetBatch.Specs;
        for (int i = 0; i < specs.Length; i++)
            Assert.Equal(Image(engine, specs[i]), together[i].Rgb);
        Assert.NotEqual(Image(engine, Spec(2, null)), together[1].Rgb);
        Assert.NotEqual(Image(engine, Spec(3, null)), together[2].Rgb);

        // The last run alone used the default set: it is resident, the sets used before it were evicted to make room.
        Assert.True(Resident(engine, AdapterSets.Default));
        Assert.False(Resident(engine, "alpha"));
        Assert.False(Resident(engine, "beta"));
        Assert.Equal(1, exceeded);
        Assert.True(engine.AdapterResidency.Evictions > 0);
        Assert.Equal(Assert.Single(engine.AdapterSets, s => s.Name == AdapterSets.Default).Residency!.Bytes, engine.AdapterResidency.ResidentBytes);
    }

    [Fact]
    public void TheLeastRecentlyUsedSetIsOffloadedWhenAnotherNeedsRoomAndAttachingEvictsNothing()
    {
        using var engine = Engine(adapters: 4);
        Attach(engine, "alpha", seed: 31);
        Attach(engine, "beta", seed: 41);

        Assert.True(Resident(engine, AdapterSets.Default));
        Assert.True(Resident(engine, "alpha"));
        Assert.False(Resident(engine, "beta"));
        Assert.False(engine.AdapterResidency.IsResident("beta/slow"));

        Image(engine, Spec(1, null));
        Image(engine, Spec(1, "alpha"));
        Image(engine, Spec(1, "beta"));

        Assert.False(Resident(engine, AdapterSets.Default));
        Assert.True(Resident(engine, "alpha"));
        Assert.True(Resident(engine, "beta"));

        Image(engine, Spec(1, null));

        Assert.True(Resident(engine, AdapterSets.Default));
        Assert.False(Resident(engine, "alpha"));
        Assert.True(Resident(engine, "beta"));
        Assert.Equal(4, engine.AdapterResidency.Evictions);
        Assert.Equal(4, engine.AdapterResidency.Loads);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnEvictedSetLosesItsMergedWeightsAndGivesTheSameImageWhenLoadedAgain(bool movesPieces)
    {
        using var engine = Engine(adapters: 2, movesPieces);
        Attach(engine, "alpha", seed: 31);
        var layers = LoraLayers.Of(engine.Model.Denoiser).Values.ToArray();
        Assert.True(engine.Model.UsesMergedWeightCache);

        var before = Image(engine, Spec(5, "alpha"));
        Assert.Contains(layers, layer => layer.HasMergedWeight("alpha/slow"));
        Assert.True(Resident(engine, "alpha"));

        Image(engine, Spec(5, null));

        Assert.False(Resident(engine, "alpha"));
        Assert.DoesNotContain(layers, layer => layer.HasMergedWeight("alpha/slow") || layer.HasMergedWeight("alpha/fast"));
        Assert.Equal(movesPieces, layers.Any(layer => layer.IsOffloaded("alpha/slow")));
        Assert.Equal(before, Image(engine, Spec(5, "alpha")));
    }

    [Fact]
    public void WithoutABudgetEverySetStaysResidentAndNothingMoves()
    {
        using var engine = Engine(adapters: null);
        Attach(engine, "alpha", seed: 31);
        Attach(engine, "beta", seed: 41);

        foreach (string? set in new[] { null, "alpha", "beta" }) Image(engine, Spec(1, set));

        Assert.All(engine.AdapterSets, set => Assert.True(set.Residency!.Resident, set.Name));
        Assert.Equal(0, engine.AdapterResidency.Evictions);
        Assert.Equal(0, engine.AdapterResidency.Loads);
        Assert.Null(engine.AdapterResidency.BudgetBytes);
        Assert.Equal(engine.AdapterSets.Sum(set => set.Residency!.Bytes), engine.AdapterResidency.ResidentBytes);
    }

    [Fact]
    public void DetachingAResidentSetFreesItsBytes()
    {
        using var engine = Engine(adapters: 4);
        Attach(engine, "alpha", seed: 31);
        long withAlpha = engine.AdapterResidency.ResidentBytes;

        Assert.True(engine.DetachAdapterSet("alpha"));

        Assert.Equal(withAlpha / 2, engine.AdapterResidency.ResidentBytes);
        Attach(engine, "beta", seed: 41);
        Assert.True(Resident(engine, "beta"));
    }
}
