using System.Diagnostics;
using System.Globalization;
using Glance.Engine.Checkpoints;
using Glance.Engine.Models.Flux;
using Glance.Engine.Models.Qwen;
using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;

namespace Glance.Cli.Benchmarks;

/// <summary>
/// `glance bench load`: per component of a FLUX.1 or Qwen-Image snapshot, seconds, GB read, GB/s and the peak resident memory during that
/// component's load; the disk's sequential read rate on the same files in the same run; and, over load/dispose cycles, the
/// resident memory after each dispose (release of memory). On a CUDA device, where the native layer has the GPU kit's
/// allocator exports (<see cref="AcceleratorMemory"/>), also each component's peak device memory and, per cycle, the
/// device memory the process still reserves after a dispose and after emptying the cache.
/// </summary>
/// <param name="digest">Also print <see cref="WeightDigest"/> of the loaded parameters (after the timed load).</param>
public sealed class LoadBenchmark(string folder, EngineOptions options, TextWriter output, bool digest = false)
{
    const double GB = 1e9;
    const int ReadBuffer = 16 << 20;

    public void Run(int cycles)
    {
        var files = Directory.GetFiles(folder, "*.safetensors", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        long fileBytes = files.Sum(f => new FileInfo(f).Length);
        output.WriteLine($"snapshot {folder}: {files.Length} safetensors files, {fileBytes / GB:F2} GB; device {options.Device}, dtype {options.DType}; {Environment.ProcessorCount} CPUs");
        output.WriteLine(ProcessMemory.HasPeakReset
            ? "peak RSS: VmHWM from /proc/self/status, reset per component by writing 5 to /proc/self/clear_refs"
            : "peak RSS: not available on this system (no /proc/self/clear_refs); RSS after each step shown instead");

        bool coldDisk = PageCache.TryDrop();
        var clock = Stopwatch.StartNew();
        long read = ReadAll(files);
        double diskSeconds = clock.Elapsed.TotalSeconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"disk sequential read ({ReadBuffer >> 20} MiB FileStream buffer): {read / GB:F2} GB in {diskSeconds:F2} s = {read / GB / diskSeconds:F2} GB/s, page cache {(coldDisk ? "dropped first (cold read)" : "NOT dropped (not permitted): likely warm")}"));

        var device = TorchRuntime.ResolveDevice(options.Device);
        bool deviceCounters = device.type == TorchSharp.DeviceType.CUDA && AcceleratorMemory.IsReachable;
        int ordinal = CudaOrdinal.Of(device);
        output.WriteLine(AcceleratorMemory.Describe(device));

        bool coldLoad = PageCache.TryDrop();
        long idleResident = ProcessMemory.Resident();
        output.WriteLine($"load: page cache {(coldLoad ? "dropped first (cold)" : "NOT dropped: files likely cached by the read above (warm)")}; RSS before {idleResident / GB:F2} GB");
        output.WriteLine($"{"component",-12} {"seconds",8} {"GB read",8} {"GB/s",7} {"peak RSS GB",12} {"RSS after GB",13}");
        long totalBytes = 0;
        var total = Stopwatch.StartNew();
        using (var model = LoadFamily((component, weights, step) =>
        {
            long bytes = weights is null ? 0 : CheckpointFiles.Resolve(weights).Sum(s => new FileInfo(s.File).Length);
            bool reset = ProcessMemory.ResetPeak();
            if (deviceCounters) AcceleratorMemory.ResetPeak(ordinal);
            var watch = Stopwatch.StartNew();
            step();
            double seconds = watch.Elapsed.TotalSeconds;
            totalBytes += bytes;
            string peak = reset && ProcessMemory.Peak() is { } p ? (p / GB).ToString("F2", CultureInfo.InvariantCulture) : "n/a";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{component,-12} {seconds,8:F2} {bytes / GB,8:F2} {(bytes > 0 ? (bytes / GB / seconds).ToString("F2", CultureInfo.InvariantCulture) : "-"),7} {peak,12} {ProcessMemory.Resident() / GB,13:F2}{DevicePeak()}"));
        }))
        {
            double wall = total.Elapsed.TotalSeconds;
            var (modelBytes, hostBytes) = ModelBytes(model);
            // Issue 13's bounds: on the CPU the model plus 1 GB; with weights on a GPU, 1 GB of host memory beyond idle
            // (plus whatever the host holds itself: text encoders placed there).
            string bound = model.Device.type == TorchSharp.DeviceType.CPU
                ? $"peak-RSS bound on CPU: model + 1 GB = {modelBytes / GB + 1:F2} GB"
                : $"host peak-RSS bound with the model on {model.Device}: RSS before + {hostBytes / GB:F2} GB on the host + 1 GB = {(idleResident + hostBytes) / GB + 1:F2} GB";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{"total",-12} {wall,8:F2} {totalBytes / GB,8:F2} {totalBytes / GB / wall,7:F2}   (model in memory {modelBytes / GB:F2} GB; {bound})"));
            if (deviceCounters) output.WriteLine($"after the load: {AcceleratorMemory.Describe(device)}");
            if (digest)
            {
                var parameters = Components(model).SelectMany(c => c.Module.named_parameters().Select(p => ($"{c.Name}.{p.name}", (TorchSharp.torch.Tensor)p.parameter))).ToList();
                output.WriteLine($"weights sha256 {WeightDigest.Of(parameters)} ({parameters.Count} parameters in {options.DType}, read back to the host in name order)");
            }
        }

        if (cycles <= 0) return;
        Settle();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"release: RSS after the first load's dispose {ProcessMemory.Resident() / GB:F3} GB{DeviceRelease()}"));
        for (int cycle = 1; cycle <= cycles; cycle++)
        {
            var watch = Stopwatch.StartNew();
            using (ModelLoader.Load(folder, options)) { }
            Settle();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"cycle {cycle}: load+dispose {watch.Elapsed.TotalSeconds:F2} s, RSS after dispose {ProcessMemory.Resident() / GB:F3} GB{DeviceRelease()}"));
        }

        // "  device peak P GB" after a component's line: the most device memory allocated while it loaded (the components
        // loaded before it included).
        string DevicePeak() => deviceCounters && AcceleratorMemory.Of(ordinal) is { } stats
            ? string.Create(CultureInfo.InvariantCulture, $"  device peak {stats.PeakAllocated / GB:F2} GB")
            : "";

        // What the device still holds after a dispose: the allocator's reservation, then what emptying its cache leaves.
        string DeviceRelease()
        {
            if (!deviceCounters || AcceleratorMemory.Of(ordinal) is not { } before) return "";
            bool emptied = AcceleratorMemory.EmptyCache();
            string after = emptied && AcceleratorMemory.Of(ordinal) is { } stats ? (stats.Reserved / GB).ToString("F3", CultureInfo.InvariantCulture) : "n/a";
            return string.Create(CultureInfo.InvariantCulture,
                $"; device: allocated {before.Allocated / GB:F3} GB, reserved {before.Reserved / GB:F3} GB, reserved after emptying the cache {after} GB");
        }
    }

    static long ReadAll(string[] files)
    {
        var buffer = new byte[ReadBuffer];
        long total = 0;
        foreach (string file in files)
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            int n;
            while ((n = stream.Read(buffer, 0, buffer.Length)) > 0) total += n;
        }
        return total;
    }

    /// <summary>
    /// The snapshot's family loader, the one <see cref="ModelLoader"/> calls for this folder, with the per-component step
    /// (ModelLoader itself takes none).
    /// </summary>
    DiffusionModel LoadFamily(FluxSnapshotLoading.LoadStep step) =>
        SnapshotFolder.PipelineClassOf(folder) == QwenImageSnapshot.PipelineClass
            ? QwenImageLoading.Load(QwenImageSnapshot.Open(folder), options, step)
            : FluxSnapshotLoading.Load(FluxSnapshot.Open(folder), options, step);

    /// <summary>The model's components that hold weights, by name.</summary>
    static IEnumerable<(string Name, TorchSharp.torch.nn.Module Module)> Components(DiffusionModel model)
    {
        (string, TorchSharp.torch.nn.Module?)[] components = model switch
        {
            GlanceModel glance => [("transformer", glance.Transformer), ("vae", glance.Autoencoder), ("text_encoder", glance.TextEncoder), ("pooled_text_encoder", glance.PooledTextEncoder)],
            QwenImageModel qwen => [("transformer", qwen.Transformer), ("vae", qwen.Autoencoder), ("text_encoder", qwen.TextEncoder)],
            _ => throw new NotSupportedException($"bench load has no component list for {model.GetType().Name}."),
        };
        foreach (var (name, module) in components)
            if (module is not null) yield return (name, module);
    }

    /// <summary>The model's weight bytes, and those of them on the host.</summary>
    static (long All, long Host) ModelBytes(DiffusionModel model)
    {
        long bytes = 0, host = 0;
        foreach (var (_, module) in Components(model))
        {
            foreach (var (_, tensor) in module.state_dict())
            {
                long size = tensor.numel() * tensor.element_size();
                bytes += size;
                if (tensor.device_type == TorchSharp.DeviceType.CPU) host += size;
            }
        }
        return (bytes, host);
    }

    /// <summary>Managed finalisers release native tensors that escaped a scope; run them so RSS reflects what disposal returned.</summary>
    static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
