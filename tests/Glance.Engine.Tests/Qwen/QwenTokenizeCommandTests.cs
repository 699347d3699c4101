using System.CommandLine;
using System.Text.Json;
using Glance.Cli.Commands;

namespace Glance.Engine.Tests.Qwen;

/// <summary>`glance tokenize --encoder qwen` on transformers' tiny Qwen2 vocabulary (see <see cref="Qwen2TestFiles"/>).</summary>
public sealed class QwenTokenizeCommandTests
{
    static (int Exit, string Output, string Error) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exit = TokenizeCommand.Create().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public void PrintsIdsWithTheirTokensAndTexts()
    {
        using var files = Qwen2TestFiles.TransformersTiny();
        var (exit, output, error) = Run("--encoder", "qwen", "--tokenizer", files.Folder, "--text", "lower<|endoftext|> ###", "--json");
        Assert.True(exit == 0, error);
        using var report = JsonDocument.Parse(output);
        var root = report.RootElement;
        Assert.Equal([75, 78, 86, 260, 270, 268, 269], root.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()));
        var pieces = root.GetProperty("pieces").EnumerateArray().ToList();
        Assert.Equal(["l", "o", "w", "er", "<|endoftext|>", "\u0120#", "##"], pieces.Select(p => p.GetProperty("token").GetString()));
        Assert.Equal(["l", "o", "w", "er", "<|endoftext|>", " #", "##"], pieces.Select(p => p.GetProperty("text").GetString()));
        Assert.False(root.GetProperty("template").GetBoolean());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("dropIndex").ValueKind);
    }

    [Fact]
    public void TemplateShowsTheDropIndexAndWhetherThisTokenizerAgreesWithIt()
    {
        using var files = Qwen2TestFiles.TransformersTiny((272, "<|im_end|>", true));
        var (exit, output, error) = Run("--encoder", "qwen", "--tokenizer", files.Folder, "--text", "lower", "--template");
        Assert.True(exit == 0, error);
        Assert.Contains("the pipeline drops the first 34", output, StringComparison.Ordinal);
        Assert.Contains("DISAGREE", output, StringComparison.Ordinal);
        Assert.Contains("---- drop index 34", output, StringComparison.Ordinal);

        var (_, json, _) = Run("--encoder", "qwen", "--tokenizer", files.Folder, "--text", "lower", "--template", "--json");
        using var report = JsonDocument.Parse(json);
        var ids = report.RootElement.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray();
        Assert.Equal(34, report.RootElement.GetProperty("dropIndex").GetInt32());
        Assert.Equal(ids.Length, report.RootElement.GetProperty("tokens").GetInt32());
        Assert.True(report.RootElement.GetProperty("prefixTokens").GetInt32() > 34);
        Assert.Equal((271, 198), (ids[0], ids[^1]));
        Assert.Contains(272, ids);
    }

    [Fact]
    public void AMissingTokenizerFileIsReportedWithExitCodeTwo()
    {
        using var files = Qwen2TestFiles.TransformersTiny();
        System.IO.File.Delete(files.File("merges.txt"));
        var (exit, _, error) = Run("--encoder", "qwen", "--tokenizer", files.Folder, "--text", "x");
        Assert.Equal(2, exit);
        Assert.Contains(files.File("merges.txt"), error, StringComparison.Ordinal);
    }
}
