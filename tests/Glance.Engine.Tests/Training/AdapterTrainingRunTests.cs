using Glance.Engine.Lora;
using Glance.Engine.Models.Qwen;
using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;
using Glance.Engine.Sampling;
using Glance.Engine.Serving;
using Glance.Engine.Tests.Pipeline;
using Glance.Engine.Tests.Snapshots;
using Glance.Engine.Training;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Training;

/// <summary>Adapter sets trained step by step on the serving engine, between generation steps.</summary>
public sealed class AdapterTrainingRunTests : IDisposable
{
    readonly string _folder = Path.Combine(Path.GetTempPath(), "glance-training-runs-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    static readonly DecodedImage Pair = new(16, 16, [.. Enumerable.Range(0, 16 * 16 * 3).Select(i => (byte)(i * 7 % 256))]);

    static AdapterTrainingSpec Spec(string set, int steps = 3) =>
        new(set, Pair, "a red circle on a gray background", [PlanBuilder.SlowPhase, PlanBuilder.FastPhase], Steps: steps, Rank: 2, LearningRate: 1e-2);

    static GenerationSpec Request(long seed, string? set = null) => new("a red circle", null, 16, 16, seed, SamplingMode.Glance, AdapterSet: set);

    static Dictionary<string, float[]> Tensors(string path)
    {
        using var file = LoraFile.Read(path);
        return file.Entries.SelectMany(e => new[] { (e.Module + ".A", e.Down), (e.Module + ".B", e.Up) })
            .ToDictionary(x => x.Item1, x => x.Item2.to(ScalarType.Float32).data<float>().ToArray(), StringComparer.Ordinal);
    }

    [Fact]
    public void GenerationStepsBetweenTrainingStepsLeaveTheTrainedAdaptersUnchanged()
    {
        using var alone = new TorchGlanceEngine(TinyModels.Create());
        using var shared = new TorchGlanceEngine(TinyModels.Create());

        using (var run = alone.StartTraining(Spec("mine")))
        {
            while (!run.IsDone) run.TrainStep();
            run.Save(Path.Combine(_folder, "alone"));
        }
        using (var run = shared.StartTraining(Spec("mine")))
        {
            var requests = shared.Start([Request(1), Request(2, null)]);
            while (!run.IsDone)
            {
                if (!requests[0].IsDenoised) shared.RunStep(requests);
                run.TrainStep();
            }
            run.Save(Path.Combine(_folder, "shared"));
            foreach (var r in requests) r.Dispose();
        }

        foreach (string phase in new[] { "slow", "fast" })
        {
            var a = Tensors(Path.Combine(_folder, "alone", phase + ".safetensors"));
            var b = Tensors(Path.Combine(_folder, "shared", phase + ".safetensors"));
            Assert.Equal(a.Keys.Order(), b.Keys.Order());
            foreach (var (key, values) in a) Assert.True(values.SequenceEqual(b[key]), $"{phase} {key} differs when generation steps ran between training steps");
            Assert.Contains(a, kv => kv.Key.EndsWith(".B", StringComparison.Ordinal) && kv.Value.Any(v => v != 0));
        }
    }

    [Fact]
    public void ImagesGeneratedWhileAnAdapterTrainsEqualThoseOfAnEngineThatTrainsNothing()
    {
        using var quiet = new TorchGlanceEngine(TinyModels.Create());
        using var busy = new TorchGlanceEngine(TinyModels.Create());
        var expected = GenerationRunner.Generate(quiet, Request(5));

        using var run = busy.StartTraining(Spec("mine", steps: 20));
        var states = busy.Start([Request(5)]);
        while (!states[0].IsDenoised)
        {
            busy.RunStep(states);
            run.TrainStep();
        }
        var image = busy.Decode(states).Single();
        states[0].Dispose();

        Assert.Equal(expected.Image.Rgb, image.Rgb);
    }

    [Fact]
    public void ATrainedSetIsSavedAsPeftFilesThatAttachAndItsTrainingAdaptersLeaveWithTheRun()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create());
        var adaptersBefore = engine.Model.Adapters.ToArray();
        IReadOnlyDictionary<string, string> files;
        using (var run = engine.StartTraining(Spec("mine", steps: 2)))
        {
            Assert.Equal(4, run.TotalSteps);
            Assert.Equal("slow", run.Phase);
            run.TrainStep();
            run.TrainStep();
            Assert.Equal("fast", run.Phase);
            Assert.Throws<InvalidOperationException>(() => run.Save(_folder));
            run.TrainStep();
            run.TrainStep();
            Assert.True(run.IsDone);
            Assert.Equal(new AdapterTrainingSettings(2, 2, 8, 1e-2, LoraTargetSets.Attention, 16, 16), run.Settings);
            files = run.Save(_folder);
        }
        Assert.Equal(adaptersBefore, engine.Model.Adapters);

        engine.AttachAdapterSet(new AdapterSetFiles("mine", files["slow"], files["fast"], "trained"));
        var set = engine.AdapterSets.Single(s => s.Name == "mine");
        Assert.Equal(["slow", "fast"], set.Phases.Select(p => p.Phase));
        Assert.All(set.Phases, p => Assert.Equal([2L], p.Ranks));
        Assert.All(set.Phases, p => Assert.Equal([4.0], p.Scales)); // alpha 8 / rank 2, from the file's header
        var withSet = GenerationRunner.Generate(engine, Request(3, "mine"));
        var withDefault = GenerationRunner.Generate(engine, Request(3));
        Assert.NotEqual(withDefault.Image.Rgb, withSet.Image.Rgb);
    }

    [Fact]
    public void ASizeThePlanCannotUseIsRefusedBeforeTraining()
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create());
        var odd = new DecodedImage(17, 16, new byte[17 * 16 * 3]);

        var error = Assert.Throws<ArgumentException>(() => engine.StartTraining(Spec("mine") with { Image = odd }));

        Assert.Contains("17x16", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(engine.Model.Adapters, a => a.StartsWith('~'));
    }

    [Theory]
    [InlineData("default")]
    [InlineData("../up")]
    public void ANameNoSetCanCarryIsRefused(string name)
    {
        using var engine = new TorchGlanceEngine(TinyModels.Create());
        var error = Assert.Throws<ArgumentException>(() => engine.StartTraining(Spec(name)));
        Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void QwenImageTrainsWithItsRecipeTargetsOnItsOwnModules()
    {
        using var builder = QwenImageSnapshotBuilder.Create();
        string folder = builder.Write(Path.Combine(_folder, "qwen"));
        using var engine = new TorchGlanceEngine(ModelLoader.Load(folder, new EngineOptions { Device = "cpu", DType = "float32" }));
        var model = Assert.IsType<QwenImageModel>(engine.Model);
        Assert.Equal(TrainingRecipe.QwenImage, model.TrainingRecipe);
        Assert.Equal(12 * model.Transformer.Config.NumLayers, model.AdapterTargets(LoraTargetSets.Broad).Count);

        using var run = engine.StartTraining(new AdapterTrainingSpec("qwen-set", Pair, "a red circle", ["fast"], Steps: 2, Rank: 2));
        while (!run.IsDone) Assert.True(double.IsFinite(run.TrainStep()));
        var files = run.Save(Path.Combine(_folder, "qwen-set"));

        using var saved = LoraFile.Read(files["fast"]);
        Assert.Equal(12 * model.Transformer.Config.NumLayers, saved.Entries.Count);
        Assert.Contains(saved.Entries, e => e.Module == "transformer_blocks.0.txt_mod.1");
        Assert.All(saved.Entries, e => Assert.Equal(2, e.Rank));
        Assert.Equal(LoraTargetSets.Broad, run.Settings.Targets);
        Assert.Equal(8, run.Settings.Alpha); // alpha = 4 x rank
    }
}
