using System.Security.Cryptography;
using System.Text;
using Glance.Api.Options;
using Microsoft.Extensions.Options;

namespace Glance.Api.Security;

/// <summary>
/// Checks presented keys against the configured ones in constant time: both sides are hashed to equal length
/// and every configured key is compared, so timing reveals neither a key's length nor which key matched.
/// </summary>
internal sealed class ApiKeyValidator
{
    readonly byte[][] keyHashes;
    readonly byte[][] adminHashes;

    public ApiKeyValidator(IOptions<AuthOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        adminHashes = [.. options.Value.AdminKeys.Where(key => key.Length > 0).Select(Hash)];
        keyHashes = [.. options.Value.ApiKeys.Where(key => key.Length > 0).Select(Hash), .. adminHashes];
    }

    public bool IsEnabled => keyHashes.Length > 0;

    /// <summary>Whether a presented key is an admin key (constant time over the admin keys).</summary>
    public bool IsAdmin(string presented)
    {
        ArgumentNullException.ThrowIfNull(presented);
        byte[] hash = Hash(presented);
        bool admin = false;
        foreach (byte[] key in adminHashes) admin |= CryptographicOperations.FixedTimeEquals(hash, key);
        return admin;
    }

    /// <summary>The index of the matching key (a partition name that does not reveal the key), or -1.</summary>
    public int Match(string presented)
    {
        ArgumentNullException.ThrowIfNull(presented);
        byte[] hash = Hash(presented);
        int match = -1;
        for (int i = 0; i < keyHashes.Length; i++)
        {
            bool equal = CryptographicOperations.FixedTimeEquals(hash, keyHashes[i]);
            match = equal ? i : match;
        }
        return match;
    }

    static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
