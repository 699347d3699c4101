using Glance.Engine.Text;

namespace Glance.Engine.Tests.Clip;

/// <summary>
/// The real openai/clip-vit-large-patch14 tokenizer files (FLUX.1's tokenizer/), which the repository does not carry
/// (see Fixtures/Tokenizers/clip-vit-large-patch14/README.md). Looked for, first found: the folder named by
/// GLANCE_CLIP_TOKENIZER_DIR; Fixtures/Tokenizers/clip-vit-large-patch14 beside the test assembly; a
/// shared/tokenizers/clip-vit-large-patch14 folder in the test assembly's folder or any folder above it. Tests that
/// need them are skipped, saying so, when none is found.
/// </summary>
internal static class ClipFixtures
{
    public const string EnvironmentVariable = "GLANCE_CLIP_TOKENIZER_DIR";
    const string FixtureFolder = "Fixtures/Tokenizers/clip-vit-large-patch14";
    const string SharedFolder = "shared/tokenizers/clip-vit-large-patch14";
    static readonly string[] Files = ["vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"];

    public static readonly string? Directory = Find();

    public static string SkipReason =>
        $"the real CLIP tokenizer files ({string.Join(", ", Files)}) are not present: set {EnvironmentVariable}, " +
        $"or place them in {FixtureFolder} or {SharedFolder} (see {FixtureFolder}/README.md)";

    public static string File(string name) => Path.Combine(Directory ?? throw new InvalidOperationException(SkipReason), name);

    static readonly Lazy<ClipBpeTokenizer> Shared = new(() => ClipBpeTokenizer.Load(File("vocab.json"), File("merges.txt")));

    /// <summary>One tokenizer for all tests: loading 49,408 tokens and 48,894 merges takes a moment.</summary>
    public static ClipBpeTokenizer Tokenizer => Shared.Value;

    static string? Find()
    {
        static bool Complete(string? folder) => folder is not null && Files.All(f => System.IO.File.Exists(Path.Combine(folder, f)));

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

/// <summary>A fact that needs the real CLIP tokenizer files; skipped, with the reason, without them.</summary>
internal sealed class RealClipTokenizerFactAttribute : FactAttribute
{
    public RealClipTokenizerFactAttribute()
    {
        if (ClipFixtures.Directory is null) Skip = ClipFixtures.SkipReason;
    }
}

/// <summary>A theory that needs the real CLIP tokenizer files; skipped, with the reason, without them.</summary>
internal sealed class RealClipTokenizerTheoryAttribute : TheoryAttribute
{
    public RealClipTokenizerTheoryAttribute()
    {
        if (ClipFixtures.Directory is null) Skip = ClipFixtures.SkipReason;
    }
}
