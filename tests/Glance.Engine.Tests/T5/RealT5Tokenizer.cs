using Glance.Engine.Text;

namespace Glance.Engine.Tests.T5;

/// <summary>
/// The real T5 v1.1 tokenizer files (spiece.model and tokenizer.json of google/t5-v1_1-xxl, FLUX.1's tokenizer_2),
/// found as <see cref="RealTokenizerFiles"/> says under GLANCE_T5_TOKENIZER_DIR or t5-v1_1-xxl.
/// </summary>
internal static class RealT5Tokenizer
{
    public static readonly RealTokenizerFiles Files = new(
        "T5 tokenizer", "t5-v1_1-xxl", "GLANCE_T5_TOKENIZER_DIR",
        [T5TokenizerFiles.SentencePieceFile, T5TokenizerFiles.HuggingFaceJsonFile]);

    public static string? Folder => Files.Folder;

    static readonly Lazy<T5SentencePieceTokenizer> FromSentencePiece =
        new(() => T5SentencePieceTokenizer.Load(Files.File(T5TokenizerFiles.SentencePieceFile)));

    static readonly Lazy<T5SentencePieceTokenizer> FromJson =
        new(() => T5SentencePieceTokenizer.LoadHuggingFaceJson(Files.File(T5TokenizerFiles.HuggingFaceJsonFile)));

    /// <summary>The tokenizer loaded once per file kind: "spiece.model" or "tokenizer.json".</summary>
    public static T5SentencePieceTokenizer Load(string file) => file switch
    {
        T5TokenizerFiles.SentencePieceFile => FromSentencePiece.Value,
        T5TokenizerFiles.HuggingFaceJsonFile => FromJson.Value,
        _ => throw new ArgumentException($"Unknown tokenizer file kind '{file}'.", nameof(file)),
    };
}

/// <summary>A fact that needs the real T5 tokenizer files; skipped, with the reason, without them.</summary>
internal sealed class RealT5TokenizerFactAttribute : FactAttribute
{
    public RealT5TokenizerFactAttribute() => Skip = RealT5Tokenizer.Files.SkipUnlessFound;
}

/// <summary>A theory that needs the real T5 tokenizer files; skipped, with the reason, without them.</summary>
internal sealed class RealT5TokenizerTheoryAttribute : TheoryAttribute
{
    public RealT5TokenizerTheoryAttribute() => Skip = RealT5Tokenizer.Files.SkipUnlessFound;
}
