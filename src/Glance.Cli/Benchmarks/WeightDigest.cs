using System.Security.Cryptography;
using System.Text;
using static TorchSharp.torch;

namespace Glance.Cli.Benchmarks;

/// <summary>
/// SHA-256 over a model's parameters as loaded, in name order: each parameter's name, dtype and shape, then its raw
/// bytes read back to the host. Two loads of one snapshot in one dtype, onto different devices, give the same digest
/// exactly when every parameter holds the same bytes: the check that a GPU load (pinned staging, chunked copies, fused
/// and split rows) put every weight where the CPU load puts it.
/// </summary>
public static class WeightDigest
{
    /// <summary>Elements hashed per piece of a parameter: keeps each span under 2 GiB and each host copy small.</summary>
    const long PieceElements = 1L << 26;

    public static string Of(IEnumerable<(string Name, Tensor Parameter)> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, parameter) in parameters.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{name}\0{parameter.dtype}\0{string.Join(',', parameter.shape)}\0"));
            using var scope = NewDisposeScope();
            var flat = parameter.detach().reshape(-1);
            for (long first = 0; first < flat.shape[0]; first += PieceElements)
            {
                using var piece = flat.narrow(0, first, Math.Min(PieceElements, flat.shape[0] - first)).cpu().contiguous();
                hash.AppendData(piece.bytes);
            }
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
