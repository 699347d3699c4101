using System.CommandLine;
using System.Text.Json;
using Glance.Engine.Pipeline;
using Glance.Engine.Text;

namespace Glance.Cli.Commands;

/// <summary>`glance tokenize`: the token ids exactly as the pipeline feeds an encoder (padded, truncated), and whether the text was cut.</summary>
public static class TokenizeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model name (under models/), model folder or FLUX.1 snapshot folder", DefaultValueFactory = _ => ModelLocator.DefaultModel };
        var encoder = new Option<string>("--encoder") { Description = "clip (FLUX.1's pooled vector), t5 (the token features) or qwen (Qwen-Image's Qwen2 tokenizer)", DefaultValueFactory = _ => "t5" };
        encoder.AcceptOnlyFromAmong("clip", "t5", "qwen");
        var text = new Option<string>("--text") { Description = "The prompt", Required = true };
        var maxSequence = new Option<int?>("--max-sequence-length") { Description = "T5 tokens (FLUX.1: 1-512; default 512 dev, 256 schnell)" };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text" };
        var tokenizerFolder = new Option<string?>("--tokenizer") { Description = "qwen: the tokenizer folder (vocab.json, merges.txt, tokenizer_config.json); default: --model's tokenizer/" };
        var template = new Option<bool>("--template") { Description = "qwen: put the text into Qwen-Image's prompt template and show where the pipeline's drop of 34 tokens falls" };
        var command = new Command("tokenize", "Print the token ids a model's encoder receives for a text") { model, encoder, text, maxSequence, json, tokenizerFolder, template };
        command.SetAction(result =>
        {
            if (result.GetValue(encoder) == "qwen")
            {
                string folder = result.GetValue(tokenizerFolder) ?? Path.Combine(ModelLocator.Resolve(result.GetValue(model)!), "tokenizer");
                return QwenTokenizeReport.Run(folder, result.GetValue(text)!, result.GetValue(template), result.GetValue(json),
                    result.InvocationConfiguration.Output, result.InvocationConfiguration.Error);
            }
            var tokenizers = ModelTokenizers.Load(ModelLocator.Resolve(result.GetValue(model)!), result.GetValue(maxSequence));
            bool clip = result.GetValue(encoder) == "clip";
            if (clip && tokenizers.Clip is null)
            {
                result.InvocationConfiguration.Error.WriteLine("This model has no CLIP encoder; use --encoder t5.");
                return 2;
            }
            var (tokenizer, length) = clip ? (tokenizers.Clip!, tokenizers.ClipLength) : (tokenizers.T5, tokenizers.T5Length);
            var batch = TokenBatch.Encode(tokenizer, [result.GetValue(text)!], length);
            int tokens = batch.TokenCounts[0];
            var report = new { encoder = clip ? "clip" : "t5", length, tokens, truncated = tokens > length, ids = batch.Ids };
            result.InvocationConfiguration.Output.WriteLine(result.GetValue(json)
                ? JsonSerializer.Serialize(report, ReportJson.Options)
                : $"{report.encoder}: {tokens} tokens{(report.truncated ? $", cut to {length}" : "")}; padded to {length}:{Environment.NewLine}{string.Join(' ', batch.Ids)}");
            return 0;
        });
        return command;
    }
}
