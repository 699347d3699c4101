using Glance.Api.Options;
using Glance.Engine.Serving;
using Microsoft.Extensions.Options;

namespace Glance.Api.Adapters;

/// <summary>
/// What the registry folder holds (<see cref="Desired"/>, rescanned on file events and every few seconds) and what the
/// engine has attached (<see cref="Loaded"/>, published by the engine worker after each change). Requests are checked
/// against <see cref="Loaded"/>; the worker reconciles the engine with <see cref="Desired"/> between steps.
/// </summary>
internal sealed class AdapterRegistry : IDisposable
{
    readonly AdapterOptions _options;
    readonly object _gate = new();
    readonly FileSystemWatcher? _watcher;
    readonly Timer? _timer;
    IReadOnlyList<AdapterSetFiles> _desired = [];
    IReadOnlyList<AdapterSetInfo> _loaded = [];
    IReadOnlyDictionary<string, string> _failures = new Dictionary<string, string>();
    long _version;

    public AdapterRegistry(IOptions<AdapterOptions> options)
    {
        _options = options.Value;
        if (_options.Path is not { } root) return;
        Directory.CreateDirectory(root);
        Rescan();
        _watcher = new FileSystemWatcher(root) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size };
        _watcher.Changed += (_, _) => Rescan();
        _watcher.Created += (_, _) => Rescan();
        _watcher.Deleted += (_, _) => Rescan();
        _watcher.Renamed += (_, _) => Rescan();
        _watcher.EnableRaisingEvents = true;
        _timer = new Timer(_ => Rescan(), null, TimeSpan.FromSeconds(_options.RescanSeconds), TimeSpan.FromSeconds(_options.RescanSeconds));
    }

    /// <summary>The registry folder, or null when only the default set is served.</summary>
    public string? Root => _options.Path;

    public int MaxSets => _options.MaxSets;

    public long MaxTotalBytes => _options.MaxTotalBytes;

    /// <summary>Bytes a set's files take on disk (0 for files gone since the scan).</summary>
    public static long BytesOf(AdapterSetFiles set)
    {
        ArgumentNullException.ThrowIfNull(set);
        return new[] { set.SlowPath, set.FastPath }.Where(p => p is not null).Select(p => new FileInfo(p!)).Where(f => f.Exists).Sum(f => f.Length);
    }

    /// <summary>
    /// The sets the engine should attach: in name order, at most <see cref="MaxSets"/> and at most
    /// <see cref="MaxTotalBytes"/> together; the others with the limit that left them out.
    /// </summary>
    public (IReadOnlyList<AdapterSetFiles> Within, IReadOnlyDictionary<string, string> Beyond) WithinLimits()
    {
        var within = new List<AdapterSetFiles>();
        var beyond = new Dictionary<string, string>(StringComparer.Ordinal);
        long total = 0;
        foreach (var set in Desired)
        {
            long bytes = BytesOf(set);
            if (within.Count >= MaxSets)
                beyond[set.Name] = $"More than Glance:Adapters:MaxSets ({MaxSets}) sets are in the folder; this one is not attached.";
            else if (total + bytes > MaxTotalBytes)
                beyond[set.Name] = $"The sets before it take {total} bytes; with its {bytes} they would pass Glance:Adapters:MaxTotalMiB ({_options.MaxTotalMiB} MiB).";
            else
            {
                within.Add(set);
                total += bytes;
            }
        }
        return (within, beyond);
    }

    /// <summary>Raised (on a thread-pool thread) when <see cref="Desired"/> changed; the worker wakes on it.</summary>
    public event Action? Changed;

    /// <summary>Counts changes of <see cref="Desired"/>, so that the worker reconciles only when something changed.</summary>
    public long Version => Interlocked.Read(ref _version);

    public IReadOnlyList<AdapterSetFiles> Desired
    {
        get
        {
            lock (_gate) return _desired;
        }
    }

    /// <summary>The sets the engine has attached, the default set first when it has one.</summary>
    public IReadOnlyList<AdapterSetInfo> Loaded => Volatile.Read(ref _loaded);

    /// <summary>Sets in the folder that could not be attached, with the reason (bad key, shape, file).</summary>
    public IReadOnlyDictionary<string, string> Failures => Volatile.Read(ref _failures);

    public AdapterSetInfo? Find(string name) => Loaded.FirstOrDefault(set => set.Name == name);

    /// <summary>Called by the engine worker after it attached or detached sets.</summary>
    public void Publish(IReadOnlyList<AdapterSetInfo> loaded, IReadOnlyDictionary<string, string> failures)
    {
        Volatile.Write(ref _loaded, loaded);
        Volatile.Write(ref _failures, failures);
    }

    /// <summary>Reads the folder again; raises <see cref="Changed"/> when the sets or their files differ.</summary>
    public void Rescan()
    {
        if (_options.Path is not { } root) return;
        IReadOnlyList<AdapterSetFiles> scanned;
        try
        {
            scanned = AdapterFolder.Scan(root);
        }
        catch (IOException)
        {
            return; // A folder changing under the scan; the next event or tick reads it again.
        }
        catch (UnauthorizedAccessException)
        {
            return;
        }
        lock (_gate)
        {
            if (scanned.SequenceEqual(_desired)) return;
            _desired = scanned;
            Interlocked.Increment(ref _version);
        }
        Changed?.Invoke();
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _timer?.Dispose();
    }
}
