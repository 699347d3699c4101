using Glance.Engine.Text;

namespace Glance.Engine.Tests.T5;

/// <summary>
/// The real T5 v1.1 tokenizer files (spiece.model and tokenizer.json of google/t5-v1_1-xxl, FLUX.1's tokenizer_2),
/// which the repository does not carry (see Fixtures/Tokenizers/t5-v1_1-xxl/README.md). Looked for, first found:
/// the folder named by GLANCE_T5_TOKENIZER_DIR; Fixtures/Tokenizers/t5-v1_1-xxl beside the test assembly; a
/// shared/tokenizers/t5-v1_1-xxl folder in the test assembly's folder or any folder above it (where the shared
/// data folder lies beside or inside a checkout). Tests that need them are skipped, saying so, when none is found.
/// </summary>
internal static class RealT5Tokenizer
{
    public const string EnvironmentVariable = "GLANCE_T5_TOKENIZER_DIR";
    const string FixtureFolder = "Fixtures/Tokenizers/t5-v1_1-xxl";
    const string SharedFolder = "shared/tokenizers/t5-v1_1-xxl";

    public static readonly string? Folder = Find();

    public static string SkipReason =>
        $"the real T5 tokenizer files ({T5TokenizerFiles.SentencePieceFile} and {T5TokenizerFiles.HuggingFaceJsonFile}) are not present: " +
        $"set {EnvironmentVariable}, or place them in {FixtureFolder} or {SharedFolder} (see {FixtureFolder}/README.md)";

    static readonly Lazy<T5SentencePieceTokenizer> FromSentencePiece =
        new(() => T5SentencePieceTokenizer.Load(Path.Combine(Required, T5TokenizerFiles.SentencePieceFile)));

    static readonly Lazy<T5SentencePieceTokenizer> FromJson =
        new(() => T5SentencePieceTokenizer.LoadHuggingFaceJson(Path.Combine(Required, T5TokenizerFiles.HuggingFaceJsonFile)));

    static string Required => Folder ?? throw new InvalidOperationException(SkipReason);

    /// <summary>The tokenizer loaded once per file kind: "spiece.model" or "tokenizer.json".</summary>
    public static T5SentencePieceTokenizer Load(string file) => file switch
    {
        T5TokenizerFiles.SentencePieceFile => FromSentencePiece.Value,
        T5TokenizerFiles.HuggingFaceJsonFile => FromJson.Value,
        _ => throw new ArgumentException($"Unknown tokenizer file kind '{file}'.", nameof(file)),
    };

    static string? Find()
    {
        static bool Complete(string? folder) => folder is not null
            && File.Exists(Path.Combine(folder, T5TokenizerFiles.SentencePieceFile))
            && File.Exists(Path.Combine(folder, T5TokenizerFiles.HuggingFaceJsonFile));

        string? configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(configured)) return Complete(configured) ? configured : null;
        string beside = Path.Combine(AppContext.BaseDirectory, FixtureFolder);
        if (Complete(beside)) return beside;
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string shared = Path.Combine(directory.FullName, SharedFolder);
            if (Complete(shared)) return shared;
        }
        return null;
    }
}

/// <summary>A fact that needs the real T5 tokenizer files; skipped, with the reason, without them.</summary>
internal sealed class RealT5TokenizerFactAttribute : FactAttribute
{
    public RealT5TokenizerFactAttribute()
    {
        if (RealT5Tokenizer.Folder is null) Skip = RealT5Tokenizer.SkipReason;
    }
}

/// <summary>A theory that needs the real T5 tokenizer files; skipped, with the reason, without them.</summary>
internal sealed class RealT5TokenizerTheoryAttribute : TheoryAttribute
{
    public RealT5TokenizerTheoryAttribute()
    {
        if (RealT5Tokenizer.Folder is null) Skip = RealT5Tokenizer.SkipReason;
    }
}
