using System.Text.Json;

namespace Glance.Engine.Checkpoints;

/// <summary>One safetensors file of a checkpoint; <see cref="IndexedKeys"/> is what a sharded index says it holds.</summary>
public sealed record CheckpointShard(string File, IReadOnlySet<string>? IndexedKeys);

/// <summary>Finds the safetensors file(s) behind a path: a file, a sharded "*.safetensors.index.json", or a folder of either.</summary>
public static class CheckpointFiles
{
    const string IndexSuffix = ".safetensors.index.json";

    public static IReadOnlyList<CheckpointShard> Resolve(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) return ResolveFolder(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
        if (path.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase)) return ReadIndex(path);
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return [new CheckpointShard(path, null)];
        throw new ArgumentException($"Checkpoint '{path}' is neither a .safetensors file nor a *{IndexSuffix} index.", nameof(path));
    }

    static IReadOnlyList<CheckpointShard> ResolveFolder(string folder)
    {
        var indexes = Directory.GetFiles(folder, "*" + IndexSuffix).Order(StringComparer.Ordinal).ToArray();
        if (indexes.Length == 1) return ReadIndex(indexes[0]);
        if (indexes.Length > 1)
            throw new InvalidDataException($"Checkpoint folder '{folder}' holds {indexes.Length} shard indexes ({string.Join(", ", indexes.Select(Path.GetFileName))}); expected one.");
        var files = Directory.GetFiles(folder, "*.safetensors").Order(StringComparer.Ordinal).ToArray();
        return files.Length switch
        {
            1 => [new CheckpointShard(files[0], null)],
            0 => throw new FileNotFoundException($"Checkpoint folder '{folder}' holds no .safetensors file and no *{IndexSuffix} index.", folder),
            _ => throw new InvalidDataException($"Checkpoint folder '{folder}' holds {files.Length} .safetensors files ({string.Join(", ", files.Select(Path.GetFileName))}) and no index; expected one file or a *{IndexSuffix} index."),
        };
    }

    static List<CheckpointShard> ReadIndex(string indexPath)
    {
        Dictionary<string, string> weightMap;
        try
        {
            using var stream = File.OpenRead(indexPath);
            using var document = JsonDocument.Parse(stream);
            if (!document.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"Shard index '{indexPath}' has no \"weight_map\" object.");
            weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"Shard index '{indexPath}' maps key '{entry.Name}' to {entry.Value.ValueKind}; expected a file name.");
                weightMap[entry.Name] = entry.Value.GetString()!;
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Shard index '{indexPath}' is not valid JSON: {e.Message}", e);
        }

        string folder = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        var shards = new List<CheckpointShard>();
        foreach (var group in weightMap.GroupBy(kv => kv.Value, StringComparer.Ordinal))
        {
            string file = Path.Combine(folder, group.Key);
            if (!File.Exists(file))
                throw new FileNotFoundException($"Shard index '{indexPath}' names shard '{group.Key}', which does not exist next to it.", file);
            shards.Add(new CheckpointShard(file, group.Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal)));
        }
        if (shards.Count == 0) throw new InvalidDataException($"Shard index '{indexPath}' has an empty weight_map.");
        return shards;
    }

    /// <summary>Throws unless a shard holds exactly the keys its index places in it.</summary>
    internal static void CheckIndexAgreement(string indexPath, string file, IReadOnlySet<string> indexed, IEnumerable<string> present)
    {
        var presentSet = present.ToHashSet(StringComparer.Ordinal);
        var absent = indexed.Where(k => !presentSet.Contains(k)).Order(StringComparer.Ordinal).ToList();
        var unlisted = presentSet.Where(k => !indexed.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (absent.Count > 0)
            throw new InvalidDataException($"Shard index '{indexPath}' places key(s) in '{file}' that the file lacks: {string.Join(", ", absent.Take(20).Select(k => $"'{k}'"))}.");
        if (unlisted.Count > 0)
            throw new InvalidDataException($"Checkpoint file '{file}' holds key(s) that its index '{indexPath}' does not list for it: {string.Join(", ", unlisted.Take(20).Select(k => $"'{k}'"))}.");
    }
}
