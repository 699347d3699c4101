using System.Text.Json.Nodes;
using Glance.Engine.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

/// <summary>The placement loader: fused pieces across shards, swapped halves, reshapes, and every problem found before a weight is copied.</summary>
public sealed class PlacedCheckpointLoaderTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("glance-placed-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A fused [6, 2] weight (as a qkv of width 2) and a 1x1 convolution [2, 2, 1, 1], all zero.</summary>
    sealed class Target : nn.Module
    {
#pragma warning disable IDE1006, CA1051 // the field names are the state-dict keys
        public readonly Linear fused = nn.Linear(2, 6, hasBias: false);
        public readonly Conv2d conv = nn.Conv2d(2, 2, 1, bias: false);
#pragma warning restore IDE1006, CA1051

        public Target() : base(nameof(Target))
        {
            RegisterComponents();
            using var guard = no_grad();
            foreach (var p in parameters()) p.zero_();
        }
    }

    static Tensor Rows(float first, int rows, int columns = 2) =>
        tensor(Enumerable.Range(0, rows * columns).Select(i => first + i).ToArray(), [rows, columns]);

    string Shards(params (string File, (string Key, Tensor Value)[] Tensors)[] shards)
    {
        var weightMap = new JsonObject();
        foreach (var (file, tensors) in shards)
        {
            SafetensorsFile.Write(Path.Combine(_folder, file), [.. tensors.Select(t => new KeyValuePair<string, Tensor>(t.Key, t.Value))]);
            foreach (var (key, _) in tensors) weightMap[key] = file;
        }
        string index = Path.Combine(_folder, "model.safetensors.index.json");
        File.WriteAllText(index, new JsonObject { ["metadata"] = new JsonObject(), ["weight_map"] = weightMap }.ToJsonString());
        return index;
    }

    /// <summary>q, k, v into the fused weight's row thirds; "swapped" into it with its halves exchanged; "lin" into the convolution.</summary>
    static IReadOnlyList<TensorPlacement>? Map(string key, long[] shape) => key switch
    {
        "q" => [new TensorPlacement("fused.weight", 0)],
        "k" => [new TensorPlacement("fused.weight", 2)],
        "v" => [new TensorPlacement("fused.weight", 4)],
        "swapped" => [new TensorPlacement("fused.weight", 3, SourceRowOffset: 0, SourceRows: 3), new TensorPlacement("fused.weight", 0, SourceRowOffset: 3, SourceRows: 3)],
        "lin" => [new TensorPlacement("conv.weight", Reshape: true)],
        "ignored" => [],
        _ => null,
    };

    static float[] Values(Tensor t) => t.detach().contiguous().data<float>().ToArray();

    [Fact]
    public void PiecesOfOneFusedWeightLoadFromDifferentShards()
    {
        string index = Shards(
            ("a.safetensors", [("q", Rows(0, 2)), ("lin", Rows(100, 2))]),
            ("b.safetensors", [("k", Rows(4, 2)), ("v", Rows(8, 2)), ("ignored", zeros(3))]));
        using var target = new Target();

        PlacedCheckpointLoader.Load(target, index, Map, "test layout");

        Assert.Equal(Enumerable.Range(0, 12).Select(i => (float)i), Values(target.fused.weight!));
        Assert.Equal(new[] { 100f, 101, 102, 103 }, Values(target.conv.weight!));
    }

    [Fact]
    public void SourceRowsPlaceTheTwoHalvesOfOneTensorSwapped()
    {
        string index = Shards(("a.safetensors", [("swapped", Rows(0, 6)), ("lin", Rows(0, 2))]));
        using var target = new Target();

        PlacedCheckpointLoader.Load(target, index, Map, "test layout");

        Assert.Equal(new float[] { 6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5 }, Values(target.fused.weight!));
    }

    [Fact]
    public void AProblemInTheLastShardFailsBeforeAnyWeightIsCopied()
    {
        string index = Shards(
            ("a.safetensors", [("q", Rows(1, 2)), ("k", Rows(5, 2)), ("lin", Rows(100, 2))]),
            ("b.safetensors", [("v", Rows(9, 2)), ("stray", Rows(0, 1))]));
        using var target = new Target();

        var error = Assert.Throws<InvalidDataException>(() => PlacedCheckpointLoader.Load(target, index, Map, "test layout"));

        Assert.Contains("'stray' (in 'b.safetensors')", error.Message, StringComparison.Ordinal);
        Assert.All(Values(target.fused.weight!), v => Assert.Equal(0f, v));
        Assert.All(Values(target.conv.weight!), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void RowsCoveredTwiceOrNotAtAllAreNamed()
    {
        string twice = Shards(("a.safetensors", [("q", Rows(0, 2)), ("k", Rows(0, 2)), ("v", Rows(0, 2)), ("swapped", Rows(0, 6)), ("lin", Rows(0, 2))]));
        using var target = new Target();
        var overlap = Assert.Throws<InvalidDataException>(() => PlacedCheckpointLoader.Load(target, twice, Map, "test layout"));
        Assert.Contains("'fused.weight' rows", overlap.Message, StringComparison.Ordinal);
        Assert.Contains("come twice", overlap.Message, StringComparison.Ordinal);

        File.Delete(twice);
        string gap = Shards(("c.safetensors", [("q", Rows(0, 2)), ("v", Rows(0, 2)), ("lin", Rows(0, 2))]));
        var missing = Assert.Throws<InvalidDataException>(() => PlacedCheckpointLoader.Load(target, gap, Map, "test layout"));
        Assert.Contains("'fused.weight' rows 2..3 come from no key", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AWholeTensorOfTheWrongShapeNamesBothShapes()
    {
        string index = Shards(("a.safetensors", [("q", Rows(0, 2)), ("k", Rows(0, 2)), ("v", Rows(0, 2)), ("lin", Rows(0, 3))]));
        using var target = new Target();
        var error = Assert.Throws<InvalidDataException>(() => PlacedCheckpointLoader.Load(target, index, Map, "test layout"));
        Assert.Contains("key 'lin'", error.Message, StringComparison.Ordinal);
        Assert.Contains("[3, 2]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 2, 1, 1]", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(16)] // one row (two float64) per read
    [InlineData(32)] // two rows: the read of rows 2..3 straddles the swapped halves' split at row 3
    [InlineData(64 << 20)] // the whole tensor in one read
    public void AnotherDtypeGoesThroughTheStagingBufferInWholeRows(long stagingBytes)
    {
        string index = Shards(("a.safetensors", [("swapped", Rows(0, 6).to(ScalarType.Float64)), ("lin", Rows(100, 2).to(ScalarType.Float64))]));
        using var target = new Target();

        PlacedCheckpointLoader.Load(target, index, Map, "test layout", stagingBytes);

        Assert.Equal(new float[] { 6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5 }, Values(target.fused.weight!));
        Assert.Equal(new[] { 100f, 101, 102, 103 }, Values(target.conv.weight!));
    }

    [Fact]
    public void ALoadGivesTheSmallParametersOneSharedStorage()
    {
        string index = Shards(("a.safetensors", [("q", Rows(0, 2)), ("k", Rows(4, 2)), ("v", Rows(8, 2)), ("lin", Rows(100, 2))]));
        using var target = new Target();

        PlacedCheckpointLoader.Load(target, index, Map, "test layout");

        // Views into one storage: their offsets differ, in 64-byte steps (16 float32).
        Assert.Equal(new long[] { 0, 16 }, new[] { target.fused.weight!, target.conv.weight! }.Select(p => p.storage_offset()).Order());
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (float)i), Values(target.fused.weight!));
        Assert.Equal(new[] { 100f, 101, 102, 103 }, Values(target.conv.weight!));
    }
}
