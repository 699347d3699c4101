using Glance.Engine.Lora;
using Glance.Engine.Pipeline;
using Glance.Engine.Serving;
using Glance.Engine.Tests.Pipeline;
using Glance.Engine.Training;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Training;

public sealed class LoraTargetSetsTests
{
    [Fact]
    public void AttentionTargetsTrainTheQueryKeyValueRowsOfTheFusedLayers()
    {
        using var model = TinyModels.Create(withAdapters: false);
        long hidden = model.Config.Transformer.HiddenSize;
        model.AddTrainableAdapter("slow", LoraTargetSets.AttentionTargets(model.Config.Transformer), rank: 2, alpha: 4, seed: 1);
        var layers = LoraLayers.Of(model.Transformer);

        foreach (string fused in new[] { "double_blocks.0.img_attn.qkv", "single_blocks.0.linear1" })
        {
            var pieces = layers[fused].PiecesOf("slow").OrderBy(p => p.RowOffset).ToList();
            Assert.Equal(new long[] { 0, hidden, 2 * hidden }, pieces.Select(p => p.RowOffset));
            Assert.All(pieces, p => Assert.Equal(hidden, p.Rows));
        }
        Assert.Equal("transformer_blocks.0.attn.to_out.0", Assert.Single(layers["double_blocks.0.img_attn.proj"].PiecesOf("slow")).TargetName);
        // The FLUX.1-dev recipe leaves the text stream, the MLPs and the modulations alone.
        Assert.Empty(layers["double_blocks.0.txt_attn.qkv"].PiecesOf("slow"));
        Assert.Empty(layers["single_blocks.0.linear2"].PiecesOf("slow"));
        Assert.Empty(layers["double_blocks.0.img_mod.lin"].PiecesOf("slow"));
    }

    [Fact]
    public void AdapterTrainedOnDiffusersNamesReloadsOntoTheSameRows()
    {
        using var files = new LoraTestFiles();
        using var model = TinyModels.Create(withAdapters: false);
        model.AddTrainableAdapter("slow", LoraTargetSets.AttentionTargets(model.Config.Transformer), rank: 2, alpha: 4, seed: 1);
        using (no_grad())
        {
            foreach (var piece in LoraLayers.Of(model.Transformer).Values.SelectMany(layer => layer.PiecesOf("slow")))
                piece.Up.normal_();
        }
        string path = files.PathFor("slow.safetensors");
        LoraFile.WritePeft(model.Transformer, "slow", path);
        Assert.Contains(LoraFile.Read(path).Entries, entry => entry.Module == "single_transformer_blocks.0.attn.to_k");

        model.AttachAdapter("reloaded", path);
        foreach (var layer in LoraLayers.Of(model.Transformer).Values)
        {
            var trained = layer.PiecesOf("slow").OrderBy(p => p.RowOffset).ToList();
            var reloaded = layer.PiecesOf("reloaded").OrderBy(p => p.RowOffset).ToList();
            Assert.Equal(trained.Select(p => (p.TargetName, p.RowOffset, p.Scale)), reloaded.Select(p => (p.TargetName, p.RowOffset, p.Scale)));
            foreach (var (a, b) in trained.Zip(reloaded))
                Assert.True(a.Up.allclose(b.Up, rtol: 0, atol: 0) && a.Down.allclose(b.Down, rtol: 0, atol: 0), $"piece {a.TargetName} changed on the way through the file");
        }
    }

    [Fact]
    public void TrainingOnOnePairMovesOnlyTheAdapterOfItsTargets()
    {
        using var model = TinyModels.Create(withAdapters: false);
        var before = model.Transformer.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        var image = new DecodedImage(16, 16, [.. Enumerable.Range(0, 16 * 16 * 3).Select(i => (byte)(i * 7 % 256))]);
        var options = new LoraTrainingOptions("fast", Rank: 2, Alpha: 4, LearningRate: 1e-2, Steps: 4, Targets: LoraTargetSets.AttentionTargets(model.Config.Transformer));

        var progress = LoraTrainer.Train(model, "fast", image, "a red circle on a gray background", options, TextWriter.Null);

        Assert.Equal(4, progress.History[^1].Step);
        foreach (var (key, value) in model.Transformer.state_dict().Where(p => before.ContainsKey(p.Key)))
            Assert.True(before[key].allclose(value, rtol: 0, atol: 0), $"base weight {key} changed");
        var pieces = LoraLayers.Of(model.Transformer).Values.SelectMany(layer => layer.PiecesOf("fast")).ToList();
        Assert.Equal(LoraTargetSets.AttentionTargets(model.Config.Transformer).Count, pieces.Count);
        Assert.All(pieces, p => Assert.True(p.Up.abs().max().item<float>() > 0, $"{p.TargetName} did not train"));
        Assert.All(pieces, p => Assert.False(p.Up.requires_grad));
    }

    [Fact]
    public void UnknownTargetSetIsRefusedByName()
    {
        var error = Assert.Throws<ArgumentException>(() => LoraTargetSets.Named("mlp", GlanceModelPresets.Tiny.Transformer));
        Assert.Contains("'mlp'", error.Message, StringComparison.Ordinal);
        Assert.Contains("broad, attention", error.Message, StringComparison.Ordinal);
    }
}
