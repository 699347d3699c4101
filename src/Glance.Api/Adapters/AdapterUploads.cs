using Glance.Api.Problems;
using Glance.Api.Scheduling;
using Glance.Engine.Serving;

namespace Glance.Api.Adapters;

/// <summary>
/// Stores uploaded or deleted sets in the registry folder: files land in a dot-folder (which scans ignore), pass the
/// structural checks and the model's own (on the engine thread, as a real attach would), and only then take the set's
/// name by a rename, so no replica ever sees half a set and a rejected upload leaves nothing behind.
/// </summary>
internal sealed class AdapterUploads(AdapterRegistry registry, EngineCommands commands)
{
    public static readonly TimeSpan AttachWait = TimeSpan.FromSeconds(30);

    /// <summary>What a write ended in: the set now served, or the problem to report (its kind carries the status) and its detail.</summary>
    public sealed record Outcome(AdapterSetInfo? Set, ProblemKind? Kind, string? Problem);

    /// <param name="files">"slow" and/or "fast" to a stream of the file's bytes, each already within the size limit.</param>
    public async Task<Outcome> StoreAsync(string name, IReadOnlyDictionary<string, Stream> files, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        string root = registry.Root ?? throw new InvalidOperationException("No registry folder is configured.");
        if (LimitProblem(name, files.Values.Sum(stream => stream.Length)) is { } full) return full;
        string staging = Path.Combine(root, $".upload-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            foreach (var (phase, content) in files)
            {
                string path = Path.Combine(staging, phase + ".safetensors");
                var target = File.Create(path);
                await using (target.ConfigureAwait(false)) await content.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
                if (AdapterFileCheck.Problem(path, phase) is { } problem) return new Outcome(null, ProblemKind.InvalidAdapterFile, problem);
            }
            return await InstallStagedAsync(name, staging, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>
    /// Installs a set whose files (slow.safetensors and/or fast.safetensors) wait in a dot-folder of the registry, as a
    /// trained set does: the same limits and checks as an upload; the folder is gone afterwards either way.
    /// </summary>
    public async Task<Outcome> InstallAsync(string name, string staged, CancellationToken cancellationToken)
    {
        try
        {
            long bytes = Directory.EnumerateFiles(staged, "*.safetensors").Sum(path => new FileInfo(path).Length);
            return LimitProblem(name, bytes) ?? await InstallStagedAsync(name, staged, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (Directory.Exists(staged)) Directory.Delete(staged, recursive: true);
        }
    }

    Outcome? LimitProblem(string name, long newBytes)
    {
        var others = registry.Desired.Where(set => set.Name != name).ToArray();
        if (others.Length >= registry.MaxSets)
            return new Outcome(null, ProblemKind.AdapterLimit, $"The registry holds {others.Length} other sets; Glance:Adapters:MaxSets allows {registry.MaxSets}. Delete one first.");
        long othersBytes = others.Sum(AdapterRegistry.BytesOf);
        if (othersBytes + newBytes > registry.MaxTotalBytes)
            return new Outcome(null, ProblemKind.AdapterLimit, $"The other sets take {othersBytes} bytes; with this set's {newBytes} they would pass Glance:Adapters:MaxTotalMiB ({registry.MaxTotalBytes >> 20} MiB).");
        return null;
    }

    /// <summary>Checks the staged files against the model (on the engine thread), then gives the folder the set's name.</summary>
    async Task<Outcome> InstallStagedAsync(string name, string staging, CancellationToken cancellationToken)
    {
        string root = registry.Root!;
        string? Staged(string phase) => File.Exists(Path.Combine(staging, phase + ".safetensors")) ? Path.Combine(staging, phase + ".safetensors") : null;
        var check = new AdapterSetFiles(name, Staged("slow"), Staged("fast"), "upload");
        try
        {
            await commands.RunAsync(engine =>
            {
                engine.CheckAdapterSet(check);
                return true;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or InvalidDataException)
        {
            return new Outcome(null, ProblemKind.InvalidAdapterFile, e.Message);
        }

        string final = Path.Combine(root, name);
        string? previous = Directory.Exists(final) ? Path.Combine(root, $".replaced-{name}-{Guid.NewGuid():N}") : null;
        if (previous is not null) Directory.Move(final, previous);
        Directory.Move(staging, final);
        if (previous is not null) Directory.Delete(previous, recursive: true);
        registry.Rescan();
        string fingerprint = registry.Desired.FirstOrDefault(set => set.Name == name)?.Fingerprint ?? "";
        var served = await WaitAsync(() => registry.Find(name) is { } set && set.Fingerprint == fingerprint ? set : null, cancellationToken).ConfigureAwait(false);
        return served is not null ? new Outcome(served, null, null)
            : new Outcome(null, ProblemKind.AdapterNotAttached,
                registry.Failures.TryGetValue(name, out string? reason) ? reason : $"The set was stored but not attached within {AttachWait.TotalSeconds:F0} s; it will be served once the engine attaches it.");
    }

    /// <summary>Removes a set's folder; every replica detaches it once its running requests finish. False when there was none.</summary>
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        string root = registry.Root ?? throw new InvalidOperationException("No registry folder is configured.");
        string folder = Path.Combine(root, name);
        if (!Directory.Exists(folder)) return false;
        string removing = Path.Combine(root, $".deleted-{name}-{Guid.NewGuid():N}");
        Directory.Move(folder, removing);
        Directory.Delete(removing, recursive: true);
        registry.Rescan();
        await WaitAsync(() => registry.Find(name) is null ? "" : null, cancellationToken).ConfigureAwait(false);
        return true;
    }

    static async Task<T?> WaitAsync<T>(Func<T?> probe, CancellationToken cancellationToken) where T : class
    {
        var deadline = DateTime.UtcNow + AttachWait;
        while (DateTime.UtcNow < deadline)
        {
            if (probe() is { } found) return found;
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
        return probe();
    }
}
