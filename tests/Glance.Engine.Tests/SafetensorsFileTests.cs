using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Glance.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

public sealed class SafetensorsFileTests : IDisposable
{
    readonly LoraTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void WriteThenReadKeepsValuesShapesAndMetadata(ScalarType dtype)
    {
        using var matrix = randn(3, 5).to(dtype);
        using var scalar = tensor(1.5f).to(dtype);
        var metadata = new Dictionary<string, string> { ["lora_alpha"] = "64", ["note"] = "{\"a\": 1}" };
        string path = _files.Write("t.safetensors", metadata, ("m", matrix), ("s", scalar));

        using var file = SafetensorsFile.Read(path);
        Assert.Equal(["m", "s"], file.Tensors.Keys);
        Assert.Equal(dtype, file.Tensors["m"].dtype);
        Assert.Equal([3L, 5L], file.Tensors["m"].shape);
        Assert.True(file.Tensors["m"].allclose(matrix, rtol: 0, atol: 0));
        Assert.Empty(file.Tensors["s"].shape);
        Assert.True(file.Tensors["s"].allclose(scalar, rtol: 0, atol: 0));
        Assert.Equal(metadata, file.Metadata);
    }

    [Fact]
    public void HeaderIsLengthPrefixedPaddedJson()
    {
        using var values = tensor(new float[] { 1, 2, 3 });
        string path = _files.Write("h.safetensors", new Dictionary<string, string> { ["k"] = "v" }, ("x", values));

        byte[] bytes = File.ReadAllBytes(path);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, (8 + headerLength) % 8);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength));
        Assert.Equal("v", header.RootElement.GetProperty("__metadata__").GetProperty("k").GetString());
        var x = header.RootElement.GetProperty("x");
        Assert.Equal("F32", x.GetProperty("dtype").GetString());
        Assert.Equal([0, 12], x.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(8 + headerLength + 12, bytes.Length);
        Assert.Equal(2f, BitConverter.ToSingle(bytes, (int)(8 + headerLength + 4)));
    }

    [Fact]
    public void TruncatedFileFailsNamingIt()
    {
        using var values = tensor(new float[] { 1, 2, 3 });
        string path = _files.Write("cut.safetensors", null, ("x", values));
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);

        var error = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Read(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("'x'", error.Message, StringComparison.Ordinal);
    }
}
