using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Glance.Cli.Benchmarks;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Benchmarks;

public sealed class WeightDigestTests
{
    static readonly float[] First = [1.5f, -2.25f, 3f, 0f, 1e-3f, -7f];
    static readonly float[] Second = [0.5f, 4f];

    /// <summary>The same digest written out by hand: per parameter in name order, "name\0dtype\0shape\0" then its float32 bytes, little-endian.</summary>
    static string ByHand(params (string Name, string Shape, float[] Values)[] parameters)
    {
        var bytes = new List<byte>();
        foreach (var (name, shape, values) in parameters.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            bytes.AddRange(Encoding.UTF8.GetBytes(name + "\0Float32\0" + shape + "\0"));
            foreach (float value in values) bytes.AddRange(BitConverter.GetBytes(value));
        }
        Assert.True(BitConverter.IsLittleEndian);
        return Convert.ToHexStringLower(SHA256.HashData(bytes.ToArray()));
    }

    [Fact]
    public void TheDigestCoversNamesShapesAndBytesInNameOrder()
    {
        using var a = tensor(First, [2, 3]);
        using var b = tensor(Second, [2]);

        string digest = WeightDigest.Of([("z.weight", a), ("a.bias", b)]);

        Assert.Equal(ByHand(("z.weight", "2,3", First), ("a.bias", "2", Second)), digest);
    }

    [Fact]
    public void OneChangedValueChangesTheDigest()
    {
        using var a = tensor(First, [2, 3]);
        using var changed = a.clone();
        changed[1, 2] = tensor(-7.0001f);

        Assert.NotEqual(WeightDigest.Of([("w", a)]), WeightDigest.Of([("w", changed)]));
    }

    [Fact]
    public void AStridedParameterIsHashedInItsLogicalOrder()
    {
        using var stored = tensor(First, [3, 2]);
        using var transposed = stored.t();
        float[] logical = [.. MemoryMarshal.Cast<byte, float>(transposed.contiguous().bytes)];

        Assert.False(transposed.is_contiguous());
        Assert.Equal(ByHand(("w", "2,3", logical)), WeightDigest.Of([("w", transposed)]));
    }
}
