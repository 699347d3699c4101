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
