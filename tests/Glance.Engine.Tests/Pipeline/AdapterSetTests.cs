using Glance.Engine.Lora;
using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;
using Glance.Engine.Sampling;
using Glance.Engine.Serving;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Pipeline;

/// <summary>Named Slow + Fast adapter sets on one model, chosen per request and mixed in one step batch.</summary>
public sealed class AdapterSetTests : IDisposable
{
    readonly TinyAdapterFolder _adapters = new();
    readonly string _folder;

    public AdapterSetTests() => _folder = _adapters.Path;

    public void Dispose() => _adapters.Dispose();

    string WriteAdapter(string name, string phase, long seed) => _adapters.Write(name, phase, seed);

    static GenerationSpec Spec(long seed, string? set) => MixedSetBatch.Spec(seed, set);

    [Fact]
    public void ABatchMixingThreeSetsAndTwoPhasesEqualsEachSampleRunAloneWithItsSet()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create());
        engine.AttachAdapterSet(new AdapterSetFiles("alpha", WriteAdapter("alpha", "slow", 31), WriteAdapter("alpha", "fast", 32), "a"));
        engine.AttachAdapterSet(new AdapterSetFiles("beta", WriteAdapter("beta", "slow", 41), null, "b"));
        var together = MixedSetBatch.Run(engine);

        var specs = MixedSetBatch.Specs;
        for (int i = 0; i < specs.Length; i++)
            Assert.Equal(GenerationRunner.Generate(engine, specs[i]).Image.Rgb, together[i].Rgb);
        Assert.NotEqual(GenerationRunner.Generate(engine, Spec(2, null)).Image.Rgb, together[1].Rgb);
    }

    [Fact]
    public void ASetWithOnePhaseRunsTheOtherOnTheBaseWeights()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create());
        engine.AttachAdapterSet(new AdapterSetFiles("beta", WriteAdapter("beta", "slow", 41), null, "b"));

        var plan = engine.PlanFor(Spec(1, "beta"));

        Assert.Equal(["beta/slow", null], plan.Phases.Select(p => p.Adapter));
        var info = Assert.Single(engine.AdapterSets, s => s.Name == "beta");
        Assert.Equal(PlanBuilder.SlowPhase, Assert.Single(info.Phases).Phase);
        Assert.Contains(engine.AdapterSets, s => s.Name == AdapterSets.Default && s.Phases.Count == 2);
    }

    [Fact]
    public void ARequestForASetThatIsNotAttachedFailsNamingIt()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create());

        var error = Assert.Throws<ArgumentException>(() => engine.PlanFor(Spec(1, "missing")));

        Assert.Contains("'missing'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFileWithAKeyThatMatchesNoModuleAttachesNothingAndKeepsThePreviousFiles()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create());
        string good = WriteAdapter("alpha", "slow", 31);
        engine.AttachAdapterSet(new AdapterSetFiles("alpha", good, null, "1"));
        var before = GenerationRunner.Generate(engine, Spec(2, "alpha")).Image.Rgb;
        string bad = Path.Combine(_folder, "bad.safetensors");
        using (var scope = NewDisposeScope())
        {
            Checkpoints.SafetensorsFile.Write(bad, [new("transformer.nowhere.lora_A.weight", zeros(4, 8)), new("transformer.nowhere.lora_B.weight", zeros(8, 4))]);
        }

        var error = Assert.Throws<InvalidOperationException>(() => engine.AttachAdapterSet(new AdapterSetFiles("alpha", good, bad, "2")));

        Assert.Contains("transformer.nowhere.lora_A.weight", error.Message, StringComparison.Ordinal);
        Assert.Equal("1", Assert.Single(engine.AdapterSets, s => s.Name == "alpha").Fingerprint);
        Assert.Equal(before, GenerationRunner.Generate(engine, Spec(2, "alpha")).Image.Rgb);
        Assert.DoesNotContain(engine.Model.Adapters, a => a.StartsWith('~'));
    }

    [Fact]
    public void DetachingASetRemovesItsAdaptersAndItsName()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create());
        engine.AttachAdapterSet(new AdapterSetFiles("alpha", WriteAdapter("alpha", "slow", 31), WriteAdapter("alpha", "fast", 32), "a"));

        Assert.True(engine.DetachAdapterSet("alpha"));

        Assert.Equal(["fast", "slow"], engine.Model.Adapters.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(engine.AdapterSets, s => s.Name == "alpha");
        Assert.False(engine.DetachAdapterSet("alpha"));
    }

    [Theory]
    [InlineData("ok-name_1", true)]
    [InlineData("../etc", false)]
    [InlineData(".hidden", false)]
    [InlineData("a/b", false)]
    [InlineData("", false)]
    [InlineData("Upper", false)]
    public void SetNamesAreLowerCaseWordsWithoutPathCharacters(string name, bool valid) =>
        Assert.Equal(valid, AdapterSets.IsValidName(name));
}
