using Glance.Engine.Text;

namespace Glance.Engine.Tests.Qwen;

/// <summary>
/// The real Qwen2 tokenizer files (Qwen-Image's tokenizer/, which is Qwen2.5-VL-7B-Instruct's), found as
/// <see cref="RealTokenizerFiles"/> says under GLANCE_QWEN2_TOKENIZER_DIR or qwen2 (see Fixtures/Tokenizers/qwen2/README.md).
/// </summary>
internal static class Qwen2Fixtures
{
    public static readonly RealTokenizerFiles Files = new(
        "Qwen2 tokenizer", "qwen2", "GLANCE_QWEN2_TOKENIZER_DIR",
        [Qwen2Tokenizer.VocabularyFile, Qwen2Tokenizer.MergesFile, Qwen2TokenizerConfig.FileName]);

    public static string File(string name) => Files.File(name);

    static readonly Lazy<Qwen2Tokenizer> Shared = new(() => Qwen2Tokenizer.Load(Files.Folder ?? throw new InvalidOperationException(Files.SkipReason)));

    /// <summary>One tokenizer for all tests: loading 151,643 tokens and 151,387 merges takes a moment.</summary>
    public static Qwen2Tokenizer Tokenizer => Shared.Value;
}

/// <summary>A fact that needs the real Qwen2 tokenizer files; skipped, with the reason, without them.</summary>
internal sealed class RealQwen2TokenizerFactAttribute : FactAttribute
{
    public RealQwen2TokenizerFactAttribute() => Skip = Qwen2Fixtures.Files.SkipUnlessFound;
}

/// <summary>A theory that needs the real Qwen2 tokenizer files; skipped, with the reason, without them.</summary>
internal sealed class RealQwen2TokenizerTheoryAttribute : TheoryAttribute
{
    public RealQwen2TokenizerTheoryAttribute() => Skip = Qwen2Fixtures.Files.SkipUnlessFound;
}
