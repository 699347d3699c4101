using Glance.Engine.Models.Flux;
using Glance.Engine.Text;

namespace Glance.Engine.Pipeline;

/// <summary>A model folder's tokenizers and the lengths its pipeline pads to, loaded without any weight.</summary>
public sealed record ModelTokenizers(ITextTokenizer T5, int T5Length, ITextTokenizer? Clip, int ClipLength)
{
    public const string ClipVocabularyFile = "vocab.json";
    public const string ClipMergesFile = "merges.txt";

    public static ModelTokenizers Load(string folder, int? maxSequenceLength = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (FluxSnapshot.PipelineClassOf(folder) is not null)
        {
            var snapshot = FluxSnapshot.Open(folder);
            return ForSnapshot(snapshot, FluxSnapshotLoading.Compose(snapshot, maxSequenceLength));
        }
        return ForOwnFolder(folder, GlanceModelConfig.Load(Path.Combine(folder, GlanceModelConfig.FileName)));
    }

    /// <summary>Our own model folder's tokenizer: vocab.txt (word) or spiece.model, as its config says.</summary>
    internal static ModelTokenizers ForOwnFolder(string folder, GlanceModelConfig config)
    {
        ITextTokenizer t5 = config.Tokenizer == GlanceModelConfig.WordTokenizerKind
            ? WordTokenizer.Load(Path.Combine(folder, GlanceModel.WordVocabularyFile))
            : T5SentencePieceTokenizer.Load(Path.Combine(folder, GlanceModel.SentencePieceFile));
        return new ModelTokenizers(t5, config.MaxTextTokens, null, 0);
    }

    internal static ModelTokenizers ForSnapshot(FluxSnapshot snapshot, GlanceModelConfig config) => new(
        T5TokenizerFiles.Load(snapshot.T5TokenizerFolder), config.MaxTextTokens,
        ClipBpeTokenizer.Load(Path.Combine(snapshot.ClipTokenizerFolder, ClipVocabularyFile), Path.Combine(snapshot.ClipTokenizerFolder, ClipMergesFile)),
        snapshot.Clip.MaxPositionEmbeddings);
}
