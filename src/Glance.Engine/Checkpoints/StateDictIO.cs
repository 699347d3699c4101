using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Glance.Engine.Checkpoints;

/// <summary>
/// Strict safetensors state-dict I/O. Loading requires the checkpoint's keys (after the optional mapping) to equal the
/// module's state-dict keys exactly and every shape to match; it copies one file at a time into the existing
/// parameters (converting dtype and device), so at most one shard is held besides the model.
/// </summary>
public static class StateDictIO
{
    const int ListedKeys = 20;

    /// <param name="module">Receives the weights; must already have the checkpoint's architecture.</param>
    /// <param name="path">A .safetensors file, a *.safetensors.index.json, or a folder holding one of them.</param>
    /// <param name="mapKeys">
    /// Renames (or splits/fuses) tensors into the module's key names. It sees one file at a time, so with a sharded
    /// checkpoint it must not need tensors from two shards together.
    /// </param>
    public static void Load(nn.Module module, string path, Func<IReadOnlyDictionary<string, Tensor>, IReadOnlyDictionary<string, Tensor>>? mapKeys = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(path);
        var shards = CheckpointFiles.Resolve(path);
        var targets = module.state_dict();
        var loadedFrom = new Dictionary<string, string>(StringComparer.Ordinal);
        string moduleName = module.GetType().Name;

        for (int s = 0; s < shards.Count; s++)
        {
            var shard = shards[s];
            using var scope = NewDisposeScope();
            var raw = Safetensors.LoadStateDict(shard.File);
            if (shard.IndexedKeys is { } indexed) CheckpointFiles.CheckIndexAgreement(path, shard.File, indexed, raw.Keys);
            IReadOnlyDictionary<string, Tensor> tensors = mapKeys is null ? raw : mapKeys(raw);

            var problems = new List<string>();
            var unexpected = tensors.Keys.Where(k => !targets.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
            if (unexpected.Count > 0)
                problems.Add($"{unexpected.Count} unexpected key(s) that {moduleName} does not have: {Listed(unexpected)}");
            var repeated = tensors.Keys.Where(loadedFrom.ContainsKey).Order(StringComparer.Ordinal).ToList();
            if (repeated.Count > 0)
                problems.Add($"{repeated.Count} key(s) already loaded from another shard: {string.Join(", ", repeated.Take(ListedKeys).Select(k => $"'{k}' (in '{loadedFrom[k]}')"))}");
            foreach (var (key, tensor) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (targets.TryGetValue(key, out var target) && !tensor.shape.SequenceEqual(target.shape))
                    problems.Add($"key '{key}' has shape {Shape(tensor.shape)}; {moduleName} expects {Shape(target.shape)}");
            }
            if (s == shards.Count - 1)
            {
                var missing = targets.Keys.Where(k => !loadedFrom.ContainsKey(k) && !tensors.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
                if (missing.Count > 0)
                    problems.Add($"{missing.Count} missing key(s) that {moduleName} needs{(shards.Count > 1 ? $" (in no shard of '{path}')" : "")}: {Listed(missing)}");
            }
            if (problems.Count > 0)
                throw new InvalidDataException($"Checkpoint file '{shard.File}' does not fit {moduleName}: {string.Join("; ", problems)}.");

            using (no_grad())
            {
                foreach (var (key, tensor) in tensors)
                {
                    targets[key].copy_(tensor);
                    loadedFrom[key] = shard.File;
                }
            }
        }
    }

    /// <summary>
    /// Writes the module's full state dict as one safetensors file (replacing any existing file); floating-point
    /// tensors are stored as <paramref name="storage"/> when given (float16 halves a shipped model's size).
    /// </summary>
    public static void Save(nn.Module module, string path, ScalarType? storage = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(path);
        using var scope = NewDisposeScope();
        var state = module.state_dict().ToDictionary(
            kv => kv.Key,
            kv => (storage is { } dtype && kv.Value.is_floating_point() ? kv.Value.to(dtype) : kv.Value).contiguous(),
            StringComparer.Ordinal);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        Safetensors.SaveStateDict(stream, state, leaveOpen: true);
    }

    static string Listed(List<string> keys) =>
        string.Join(", ", keys.Take(ListedKeys).Select(k => $"'{k}'")) + (keys.Count > ListedKeys ? $" and {keys.Count - ListedKeys} more" : "");

    static string Shape(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
