using Glance.Engine.Text;

namespace Glance.Engine.Tests.Clip;

/// <summary>
/// The real openai/clip-vit-large-patch14 tokenizer files (FLUX.1's tokenizer/), found as
/// <see cref="RealTokenizerFiles"/> says under GLANCE_CLIP_TOKENIZER_DIR or clip-vit-large-patch14.
/// </summary>
internal static class ClipFixtures
{
    public static readonly RealTokenizerFiles Files = new(
        "CLIP tokenizer", "clip-vit-large-patch14", "GLANCE_CLIP_TOKENIZER_DIR",
        ["vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"]);

    public static string File(string name) => Files.File(name);

    static readonly Lazy<ClipBpeTokenizer> Shared = new(() => ClipBpeTokenizer.Load(File("vocab.json"), File("merges.txt")));

    /// <summary>One tokenizer for all tests: loading 49,408 tokens and 48,894 merges takes a moment.</summary>
    public static ClipBpeTokenizer Tokenizer => Shared.Value;
}

/// <summary>A fact that needs the real CLIP tokenizer files; skipped, with the reason, without them.</summary>
internal sealed class RealClipTokenizerFactAttribute : FactAttribute
{
    public RealClipTokenizerFactAttribute() => Skip = ClipFixtures.Files.SkipUnlessFound;
}

/// <summary>A theory that needs the real CLIP tokenizer files; skipped, with the reason, without them.</summary>
internal sealed class RealClipTokenizerTheoryAttribute : TheoryAttribute
{
    public RealClipTokenizerTheoryAttribute() => Skip = ClipFixtures.Files.SkipUnlessFound;
}
