using Glance.Engine.Lora;
using Glance.Engine.Models.Qwen;
using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;
using Glance.Engine.Serving;
using Glance.Engine.Text;
using TorchSharp;
using static TorchSharp.torch;
using static Glance.Engine.Tests.Snapshots.SnapshotAssertions;

namespace Glance.Engine.Tests.Snapshots;

/// <summary>Loading unmodified Qwen-Image snapshots (tiny, random, in the real Hugging Face layout) and serving them.</summary>
public sealed class QwenImageSnapshotTests : IDisposable
{
    static readonly EngineOptions Cpu = new() { Device = "cpu", DType = "float32" };
    readonly string _root = Path.Combine(Path.GetTempPath(), "glance-qwen-snapshot-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    string Folder(string name) => Path.Combine(_root, name);

    static QwenImageModel Load(string folder, EngineOptions? options = null) =>
        Assert.IsType<QwenImageModel>(ModelLoader.Load(folder, options ?? Cpu));

    [Fact]
    public void EveryNumberComesFromTheSnapshotsConfigFiles()
    {
        using var builder = QwenImageSnapshotBuilder.Create();
        var snapshot = QwenImageSnapshot.Open(builder.Write(Folder("snapshot")));

        Assert.Equal(QwenImageSnapshotBuilder.TransformerConfig with { AxesDimsRope = snapshot.Transformer.AxesDimsRope }, snapshot.Transformer);
        Assert.Equal([4, 6, 6], snapshot.Transformer.AxesDimsRope);
        Assert.Equal(QwenImageSnapshotBuilder.TextConfig, snapshot.TextEncoder);
        Assert.Equal(8, snapshot.Autoencoder.DownsampleFactor);
        Assert.Equal(QwenImageSnapshotBuilder.AutoencoderConfig.LatentsStd, snapshot.Autoencoder.LatentsStd);
        Assert.True(snapshot.Schedule.DynamicShift);
        Assert.Equal((0.5, 0.9, 256, 8192, 0.02), (snapshot.Schedule.BaseShift, snapshot.Schedule.MaxShift, snapshot.Schedule.BaseSeqLen, snapshot.Schedule.MaxSeqLen, snapshot.Schedule.TerminalSigma));
        Assert.EndsWith("diffusion_pytorch_model.safetensors.index.json", snapshot.TransformerWeights, StringComparison.Ordinal);
        Assert.EndsWith("model.safetensors.index.json", snapshot.TextEncoderWeights, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("model.")]
    [InlineData("model.language_model.")]
    public void EveryNetworkLoadsTheWeightsTheSnapshotHoldsInEitherTextEncoderLayout(string languageModelPrefix)
    {
        using var builder = QwenImageSnapshotBuilder.Create();
        using var loaded = Load(builder.Write(Folder("snapshot"), languageModelPrefix));

        AssertSameWeights(builder.Transformer, loaded.Transformer);
        AssertSameWeights(builder.Autoencoder, loaded.Autoencoder);
        AssertSameWeights(builder.TextEncoder, loaded.TextEncoder);
        Assert.Equal("qwen-image", loaded.Profile.Family);
        Assert.True(loaded.Profile.Guidance is { TrueCfg: true, NormRescale: true, DefaultScale: 4.0 });
        Assert.Equal(" ", loaded.Profile.DefaultNegativePrompt);
    }

    [Fact]
    public void APromptIsEncodedAsThePipelineDoesWithTheTemplatePrefixDroppedAndNoPaddingInItsRow()
    {
        using var builder = QwenImageSnapshotBuilder.Create();
        using var model = Load(builder.Write(Folder("snapshot")));
        string[] prompts = ["a red circle", "a blue square on a cliff at dawn"];
        using var scope = NewDisposeScope();

        var batch = model.EncodeText(prompts);

        Assert.NotNull(batch.Mask);
        Assert.Null(batch.Pooled);
        for (int i = 0; i < prompts.Length; i++)
        {
            // The pipeline's own steps for one prompt alone: template, tokens, last hidden state, the first 34 dropped.
            var ids = model.Tokenizer.Encode(QwenImagePromptTemplate.Format(prompts[i]));
            var hidden = builder.TextEncoder.Forward(tensor(ids.Select(id => (long)id).ToArray(), [1, ids.Count]), null);
            var expected = hidden.narrow(1, QwenImagePromptTemplate.DroppedTokens, ids.Count - QwenImagePromptTemplate.DroppedTokens);

            var row = batch.Row(i);
            Assert.Equal(expected.shape, row.Context.shape);
            Assert.True(row.Context.allclose(expected, rtol: 1e-5, atol: 1e-5), $"prompt {i}: its row differs from the prompt encoded alone");
            long padded = batch.Context.shape[1] - expected.shape[1];
            if (padded > 0) Assert.Equal(0.0, batch.Context[i].narrow(0, expected.shape[1], padded).abs().max().item<float>());
        }
    }

    [Fact]
    public void PromptsOfDifferentLengthsAndSeveralImagesPerPromptInOneStepBatchGiveTheImagesTheyGiveAlone()
    {
        using var builder = QwenImageSnapshotBuilder.Create();
        using var engine = new TorchGlanceEngine(Load(builder.Write(Folder("snapshot"))), options: new EngineOptions { PromptCacheEntries = 0 });
        GenerationSpec Spec(string prompt, long seed) => new(prompt, null, 64, 64, seed, SamplingMode.Base, Steps: 2, Guidance: 4.0);
        var short_ = Spec("a red circle", 1);
        var long_ = Spec("a blue square on a cliff at dawn with a lighthouse", 2);

        // Two images of the long prompt and one of the short one, interleaved: the reference pipeline pairs masks with the
        // wrong rows in such batches; here every row carries its own prompt's mask.
        GenerationSpec[] specs = [long_, short_, long_ with { Seed = 4 }];
        var states = engine.Start(specs);
        while (!states.All(s => s.IsDenoised)) engine.RunStep(states);
        var together = engine.Decode(states);
        foreach (var state in states) state.Dispose();

        for (int i = 0; i < specs.Length; i++)
            Assert.Equal(GenerationRunner.Generate(engine, specs[i]).Image.Rgb, together[i].Rgb);
    }

    [Fact]
    public void TrueCfgTakesTheSpaceNegativePromptWhenARequestGivesNone()
    {
        using var builder = QwenImageSnapshotBuilder.Create();
        using var engine = new TorchGlanceEngine(Load(builder.Write(Folder("snapshot"))));
        var spec = new GenerationSpec("a red circle", null, 64, 64, 3, SamplingMode.Base, Steps: 2, Guidance: 4.0);

        var none = GenerationRunner.Generate(engine, spec);
        var space = GenerationRunner.Generate(engine, spec with { NegativePrompt = " " });
        var empty = GenerationRunner.Generate(engine, spec with { NegativePrompt = "" });

        Assert.Equal(space.Image.Rgb, none.Image.Rgb);
        Assert.NotEqual(empty.Image.Rgb, none.Image.Rgb);
    }

    [Fact]
    public void ALongPromptKeepsTheTemplatesClosingTokensAndIsReportedAsCut()
    {
        using var builder = QwenImageSnapshotBuilder.Create();
        using var model = Load(builder.Write(Folder("snapshot")), Cpu with { MaxSequenceLength = 12 });
        string prompt = string.Join(' ', Enumerable.Repeat("a red circle", 10));
        var suffix = model.Tokenizer.Encode(QwenImagePromptTemplate.Suffix);

        var ids = model.TemplateIds(prompt);

        Assert.Equal(QwenImagePromptTemplate.DroppedTokens + 12, ids.Count);
        Assert.Equal(suffix, ids.Skip(ids.Count - suffix.Count));
        var cut = Assert.Single(model.Truncations("prompt", prompt));
        Assert.Equal(12 - suffix.Count, cut.Kept);
        Assert.Empty(model.Truncations("prompt", "a red circle"));
    }

    [Fact]
    public void AnAdapterFileWithoutAlphaIsAppliedAtTheGlanceRecipesFourTimesUnlessConfiguredOtherwise()
    {
        using var builder = QwenImageSnapshotBuilder.Create();
        using var model = Load(builder.Write(Folder("snapshot")));
        using var files = new LoraTestFiles();
        using var scope = NewDisposeScope();
        var (down, up) = LoraTestFiles.RandomPair(2, 32, 32);
        var (mlpDown, mlpUp) = LoraTestFiles.RandomPair(2, 128, 32);
        string path = files.Write("slow.safetensors", null,
            ("transformer.transformer_blocks.0.attn.to_q.lora_A.weight", down), ("transformer.transformer_blocks.0.attn.to_q.lora_B.weight", up),
            ("transformer_blocks.1.img_mlp.net.2.lora_A.weight", mlpDown), ("transformer_blocks.1.img_mlp.net.2.lora_B.weight", mlpUp));

        model.AttachAdapter("slow", path);
        model.AttachAdapter("plain", path, scaleWithoutAlpha: 1.0);

        var layers = LoraLayers.Of(model.Transformer);
        Assert.Equal(4.0, Assert.Single(layers["transformer_blocks.0.attn.to_q"].PiecesOf("slow")).Scale);
        Assert.Equal(4.0, Assert.Single(layers["transformer_blocks.1.img_mlp.net.2"].PiecesOf("slow")).Scale);
        Assert.Equal(1.0, Assert.Single(layers["transformer_blocks.0.attn.to_q"].PiecesOf("plain")).Scale);
        Assert.Contains("2 modules", model.AdapterNotes["slow"], StringComparison.Ordinal);
        Assert.Contains("scale 4 (the file carries no alpha", model.AdapterNotes["slow"], StringComparison.Ordinal);
    }

    [Fact]
    public void AnAdapterKeyThatMatchesNoModuleFailsNamingIt()
    {
        using var builder = QwenImageSnapshotBuilder.Create();
        using var model = Load(builder.Write(Folder("snapshot")));
        using var files = new LoraTestFiles();
        using var scope = NewDisposeScope();
        var (down, up) = LoraTestFiles.RandomPair(2, 32, 32);
        string path = files.Write("bad.safetensors", null,
            ("transformer.transformer_blocks.0.attn.to_qq.lora_A.weight", down), ("transformer.transformer_blocks.0.attn.to_qq.lora_B.weight", up));

        var error = Assert.Throws<InvalidOperationException>(() => model.AttachAdapter("slow", path));

        Assert.Contains("transformer.transformer_blocks.0.attn.to_qq.lora_A.weight", error.Message, StringComparison.Ordinal);
        Assert.Empty(model.Adapters);
    }

    [Fact]
    public void GlanceModeRunsTenStepsWithBothAdaptersInOneRun()
    {
        using var builder = QwenImageSnapshotBuilder.Create();
        var model = Load(builder.Write(Folder("snapshot")));
        using var files = new LoraTestFiles();
        using (var scope = NewDisposeScope())
        {
            foreach (string phase in new[] { "slow", "fast" })
            {
                var (down, up) = LoraTestFiles.RandomPair(2, 32, 32);
                model.AttachAdapter(phase, files.Write(phase + ".safetensors", null,
                    ("transformer_blocks.0.attn.to_q.lora_A.weight", down), ("transformer_blocks.0.attn.to_q.lora_B.weight", up)));
            }
        }
        using var engine = new TorchGlanceEngine(model);
        var spec = new GenerationSpec("a red circle", null, 64, 64, 5, SamplingMode.Glance);

        var plan = engine.PlanFor(spec);
        var image = GenerationRunner.Generate(engine, spec);

        Assert.Equal(10, plan.StepCount);
        Assert.Equal(["slow", "fast"], plan.Phases.Select(p => p.Adapter));
        Assert.Equal(64 * 64 * 3, image.Image.Rgb.Length);
        Assert.Null(engine.Description.GlanceNote);
        Assert.Equal("qwen-image", engine.Description.Family);
    }
}
