using Glance.Engine.Runtime;
using Glance.Engine.Lora;
using Glance.Engine.Pipeline;
using Glance.Engine.Sampling;
using Glance.Engine.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Pipeline;

/// <summary>Randomly initialised tiny model bundles, optionally with non-zero Slow and Fast adapters.</summary>
internal static class TinyModels
{
    public static GlanceModel Create(bool withAdapters = true, GlanceModelConfig? config = null, ITextTokenizer? tokenizer = null)
    {
        var model = GlanceModel.Create(config ?? GlanceModelPresets.Tiny, tokenizer ?? WordTokenizer.Build(["a red circle on a gray background", "blue square"]), CPU, ScalarType.Float32, seed: 3);
        SeededWeights.Redraw(model.Transformer, seed: 3);
        SeededWeights.Redraw(model.Autoencoder, seed: 4);
        SeededWeights.Redraw(model.TextEncoder, seed: 5);
        if (withAdapters)
        {
            long seed = 10;
            foreach (string phase in new[] { PlanBuilder.SlowPhase, PlanBuilder.FastPhase })
            {
                foreach (var p in model.AddTrainableAdapter(phase, Glance.Engine.Training.LoraTargetSets.BroadTargets(model.Config.Transformer), rank: 4, alpha: 4, seed: seed++))
                    p.requires_grad = false;
                // Fresh adapters have up = 0 and change nothing; give them weight so that tests can see routing.
                using var noGrad = no_grad();
                using var generator = new Generator((ulong)seed, CPU);
                foreach (var layer in LoraLayers.Of(model.Transformer).Values)
                {
                    foreach (var piece in layer.PiecesOf(phase))
                        piece.Up.copy_(randn(piece.Up.shape, generator: generator).Times(0.3));
                }
            }
        }
        return model;
    }
}

/// <summary>One id per character, so that a space is a token of its own (as in byte-level BPE), unlike the word tokenizer.</summary>
internal sealed class CharacterTokenizer : ITextTokenizer
{
    public int PadId => 0;

    public int EosId => 1;

    public int VocabSize => 64;

    public IReadOnlyList<int> Encode(string text) => [.. text.Select(c => 2 + c % 62), EosId];
}
