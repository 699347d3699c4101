using System.CommandLine;
using Glance.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Snapshots;

/// <summary>What the snapshot tests of every family share: running a CLI command, reading a snapshot's weights, comparing.</summary>
internal static class SnapshotAssertions
{
    public static void AssertSameWeights(nn.Module expected, nn.Module actual)
    {
        var want = expected.state_dict();
        var got = actual.state_dict();
        Assert.Equal(want.Keys.Order(StringComparer.Ordinal), got.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, tensor) in want)
            Assert.True(tensor.to(ScalarType.Float32).eq(got[key].to(ScalarType.Float32)).all().item<bool>(), $"'{key}' differs after loading");
    }

    /// <summary>Runs a command in process; fails with its error output unless it exits 0; returns its output.</summary>
    public static string Run(Command command, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exit = command.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        Assert.True(exit == 0, $"exit {exit}: {error}");
        return output.ToString();
    }

    /// <summary>Every tensor of a single file or of all shards of an index.</summary>
    public static Dictionary<string, Tensor> ReadAll(string weights) =>
        CheckpointFiles.Resolve(weights).SelectMany(shard => SafetensorsFile.Read(shard.File).Tensors).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    public static double[] Values(Tensor t) => t.to(ScalarType.Float64).contiguous().data<double>().ToArray();

    /// <summary>Largest difference, relative to the largest reference magnitude (float32 against float64 over a few layers).</summary>
    public static void AssertClose(IEnumerable<double> expected, double[] actual, double tolerance)
    {
        var want = expected.ToArray();
        Assert.Equal(want.Length, actual.Length);
        double scale = Math.Max(1e-6, want.Max(Math.Abs));
        double worst = want.Zip(actual, (a, b) => Math.Abs(a - b)).Max() / scale;
        Assert.True(worst < tolerance, $"largest relative difference {worst:E2} (tolerance {tolerance:E0})");
    }
}
