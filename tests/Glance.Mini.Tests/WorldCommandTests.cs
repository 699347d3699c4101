using System.CommandLine;
using System.Text.Json;
using Glance.Cli.Commands;
using Glance.Engine.Imaging;
using Glance.Mini.World;

namespace Glance.Mini.Tests;

public sealed class WorldCommandTests : IDisposable
{
    readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("glance-world-");

    [Fact]
    public void SampleWritesPngsAndCaptionsOfTheRequestedSplit()
    {
        var exit = WorldCommand.Create().Parse(
            ["sample", "--split", "heldout", "--count", "5", "--seed", "9", "--size", "48", "--out", _directory.FullName])
            .Invoke(new InvocationConfiguration { Output = TextWriter.Null });

        Assert.Equal(0, exit);
        var lines = File.ReadAllLines(Path.Combine(_directory.FullName, "captions.jsonl"));
        Assert.Equal(5, lines.Length);
        var sampler = new SceneSampler(9, SceneSplit.HeldOut);
        for (var i = 0; i < lines.Length; i++)
        {
            using var json = JsonDocument.Parse(lines[i]);
            var scene = sampler.Sample(i);
            Assert.Equal(scene.Caption, json.RootElement.GetProperty("caption").GetString());
            Assert.Equal("heldout", json.RootElement.GetProperty("split").GetString());
            var file = Path.Combine(_directory.FullName, json.RootElement.GetProperty("file").GetString()!);
            Assert.Equal(SceneRenderer.Render(scene, 48).Rgb, PngEncoding.Load(file).Rgb);
        }
    }

    [Fact]
    public void ValidatePrintsAccuracyPerSplit()
    {
        using var output = new StringWriter();
        var exit = WorldCommand.Create().Parse(["validate", "--count", "10", "--seed", "4", "--blur"])
            .Invoke(new InvocationConfiguration { Output = output });

        Assert.Equal(0, exit);
        var text = output.ToString();
        Assert.Contains("train ", text, StringComparison.Ordinal);
        Assert.Contains("heldout ", text, StringComparison.Ordinal);
        Assert.Contains("both     n=20 ", text, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownSplitIsRejected()
    {
        var result = WorldCommand.Create().Parse(["sample", "--split", "test", "--out", _directory.FullName]);
        Assert.NotEmpty(result.Errors);
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
