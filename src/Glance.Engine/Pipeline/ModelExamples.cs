using Glance.Engine.Text;

namespace Glance.Engine.Pipeline;

/// <summary>
/// A model folder's example prompts: examples.txt, one prompt per line (glance-mini's is written by
/// `glance world examples` from its world's captions). With a word-level tokenizer every word must be in the
/// vocabulary: an example the model cannot read would show clients blobs as its first image.
/// </summary>
public static class ModelExamples
{
    public const string FileName = "examples.txt";

    /// <summary>The folder's examples; null when it has no examples file.</summary>
    public static IReadOnlyList<string>? Read(string folder, ITextTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        string[] lines = File.ReadAllLines(path);
        var prompts = new List<string>(lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            string prompt = lines[i].Trim();
            if (prompt.Length == 0) continue;
            if (tokenizer is WordTokenizer words)
            {
                string? unknown = WordTokenizer.SplitWords(prompt).FirstOrDefault(w => !words.Vocabulary.Skip(3).Contains(w, StringComparer.Ordinal));
                if (unknown is not null)
                    throw new InvalidDataException($"{path} line {i + 1} uses the word '{unknown}', which the model's vocabulary does not hold; every example must be in the model's words.");
            }
            prompts.Add(prompt);
        }
        if (prompts.Count == 0) throw new InvalidDataException($"{path} holds no prompt; remove it or write one prompt per line.");
        return prompts;
    }
}
