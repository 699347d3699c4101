namespace Glance.Engine.Text;

/// <summary>The T5 tokenizer of a snapshot folder (tokenizer_2 of FLUX.1), from whichever file it holds.</summary>
public static class T5TokenizerFiles
{
    public const string SentencePieceFile = "spiece.model";
    public const string HuggingFaceJsonFile = "tokenizer.json";

    /// <summary>
    /// spiece.model when present (the original), else tokenizer.json (some copies ship only that); both give the
    /// same ids. Neither: <see cref="FileNotFoundException"/> naming the folder and both file names.
    /// </summary>
    public static T5SentencePieceTokenizer Load(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string sentencePiece = Path.Combine(folder, SentencePieceFile);
        if (File.Exists(sentencePiece)) return T5SentencePieceTokenizer.Load(sentencePiece);
        string json = Path.Combine(folder, HuggingFaceJsonFile);
        if (File.Exists(json)) return T5SentencePieceTokenizer.LoadHuggingFaceJson(json);
        throw new FileNotFoundException(
            $"T5 tokenizer folder '{folder}' holds neither {SentencePieceFile} nor {HuggingFaceJsonFile}" +
            (Directory.Exists(folder) ? "." : " (the folder does not exist)."),
            sentencePiece);
    }
}
