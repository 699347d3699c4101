using System.Diagnostics.Metrics;
using Glance.Api.Engine;
using Glance.Api.Scheduling;
using Glance.Engine.Runtime;
using Glance.Engine.Serving;

namespace Glance.Api.Telemetry;

/// <summary>
/// The server's instruments on the "Glance.Server" meter. Prometheus names: glance_phase_duration_seconds{phase},
/// glance_engine_call_duration_seconds{operation}, glance_engine_out_of_memory_total{operation}, glance_batch_size,
/// glance_requests_total{outcome, adapters},
/// glance_request_duration_seconds{adapters} (completed requests, queue to PNG),
/// glance_queue_depth, glance_running_requests, glance_prompt_cache_hits_total, glance_prompt_cache_misses_total (once the
/// engine has loaded, when it has a prompt cache), glance_adapter_resident_bytes and glance_adapter_evictions_total (once
/// the engine has loaded, when it keeps adapter residency), glance_device_memory_bytes{state} and
/// glance_device_memory_peak_bytes{state} (with the model on a CUDA device whose allocator counters the native layer
/// exposes: <see cref="AcceleratorMemory"/>).
/// </summary>
internal sealed class ServerMetrics
{
    public const string MeterName = "Glance.Server";
    const int NoCudaDevice = -1;

    static readonly double[] SecondsBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
    static readonly int[] BatchBuckets = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64];

    readonly Histogram<double> phaseDuration;
    readonly Histogram<double> engineCallDuration;
    readonly Counter<long> outOfMemory;
    readonly Histogram<int> batchSize;
    readonly Counter<long> requests;
    readonly Histogram<double> requestDuration;
    readonly Func<int, DeviceMemoryStats?> deviceMemory;
    int running;
    PromptCacheCounters? promptCache;
    int cudaOrdinal = NoCudaDevice;

    /// <param name="deviceMemory">A CUDA device's allocator counters by ordinal; <see cref="AcceleratorMemory.Of"/> when not given.</param>
    public ServerMetrics(IMeterFactory meterFactory, RequestQueue queue, EngineAdapterResidency? residency = null, Func<int, DeviceMemoryStats?>? deviceMemory = null)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(queue);
        this.deviceMemory = deviceMemory ?? AcceleratorMemory.Of;
        Meter meter = meterFactory.Create(MeterName);
        phaseDuration = meter.CreateHistogram(
            "glance.phase.duration", "s", "Time a request spent in each stage (queue, encode, slow, fast, base, decode, png).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        engineCallDuration = meter.CreateHistogram(
            "glance.engine.call.duration", "s", "Wall time of one engine call (start, step or decode) for its whole batch.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        outOfMemory = meter.CreateCounter<long>("glance.engine.out_of_memory", "{call}",
            "Engine calls over several requests that ran out of device memory and were run again in halves (the batch cap at that resolution lowered).");
        batchSize = meter.CreateHistogram(
            "glance.batch.size", "{request}", "Requests in one engine step.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = BatchBuckets });
        requests = meter.CreateCounter<long>("glance.requests", "{request}", "Image requests by how they ended and the adapter set they used.");
        requestDuration = meter.CreateHistogram(
            "glance.request.duration", "s", "Time from queueing to the PNG of completed requests, by adapter set.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        meter.CreateObservableGauge("glance.queue.depth", () => queue.Count, "{request}", "Requests waiting for the engine.");
        meter.CreateObservableGauge("glance.running.requests", () => Volatile.Read(ref running), "{request}", "Requests started in the engine.");
        meter.CreateObservableCounter("glance.prompt_cache.hits", () => PromptCacheCount(c => c.Hits), "{prompt}",
            "Distinct prompt texts of an engine start found in the prompt cache (not encoded again).");
        meter.CreateObservableCounter("glance.prompt_cache.misses", () => PromptCacheCount(c => c.Misses), "{prompt}",
            "Distinct prompt texts of an engine start not in the prompt cache (encoded, then cached).");
        meter.CreateObservableGauge("glance.adapter.resident", () => ResidencyCount(residency, c => c.ResidentBytes), "By",
            "Bytes of adapter tensors on the model's device (Glance:Adapters:MaxResidentMiB bounds it; adapters offloaded to the host not counted).");
        meter.CreateObservableCounter("glance.adapter.evictions", () => ResidencyCount(residency, c => c.Evictions), "{adapter}",
            "Adapters moved off the model's device to make room for those a step needed (least recently used first).");
        meter.CreateObservableGauge("glance.device.memory", () => DeviceMemory(peak: false), "By",
            "Device memory of the model's GPU held by this process's tensors (state=allocated) and reserved by its caching allocator (state=reserved: allocated plus the cache).");
        meter.CreateObservableGauge("glance.device.memory.peak", () => DeviceMemory(peak: true), "By",
            "Highest glance.device.memory since the process started, by state: what the batch sizes served so far needed at most.");
    }

    IEnumerable<Measurement<long>> DeviceMemory(bool peak)
    {
        int ordinal = Volatile.Read(ref cudaOrdinal);
        if (ordinal == NoCudaDevice || deviceMemory(ordinal) is not { } stats) return [];
        return
        [
            new Measurement<long>(peak ? stats.PeakAllocated : stats.Allocated, new KeyValuePair<string, object?>("state", "allocated")),
            new Measurement<long>(peak ? stats.PeakReserved : stats.Reserved, new KeyValuePair<string, object?>("state", "reserved")),
        ];
    }

    static IEnumerable<Measurement<long>> ResidencyCount(EngineAdapterResidency? residency, Func<AdapterResidencyCounters, long> read) =>
        residency?.Counters is { } counters ? [new Measurement<long>(read(counters))] : [];

    /// <summary>The loaded engine's prompt cache counters (null: the engine has no prompt cache) and the device its model is on.</summary>
    public void EngineLoaded(PromptCacheCounters? counters, string device)
    {
        ArgumentNullException.ThrowIfNull(device);
        Volatile.Write(ref promptCache, counters);
        Volatile.Write(ref cudaOrdinal, CudaOrdinal.Parse(device) ?? NoCudaDevice);
    }

    IEnumerable<Measurement<long>> PromptCacheCount(Func<PromptCacheCounters, long> read) =>
        Volatile.Read(ref promptCache) is { } counters ? [new Measurement<long>(read(counters))] : [];

    public void EngineCall(string operation, TimeSpan duration) =>
        engineCallDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("operation", operation));

    public void Batch(int size) => batchSize.Record(size);

    public void OutOfMemory(string operation) => outOfMemory.Add(1, new KeyValuePair<string, object?>("operation", operation));

    public void Running(int count) => Volatile.Write(ref running, count);

    /// <param name="adapterSet">The set the request used; its cardinality is bounded by Glance:Adapters:MaxSets.</param>
    public void Finished(WorkOutcome outcome, IReadOnlyDictionary<string, double> timingsMs, string adapterSet, TimeSpan total)
    {
        ArgumentNullException.ThrowIfNull(timingsMs);
        var set = new KeyValuePair<string, object?>("adapters", adapterSet);
        requests.Add(1, new KeyValuePair<string, object?>("outcome", OutcomeName(outcome)), set);
        if (outcome != WorkOutcome.Completed) return;
        requestDuration.Record(total.TotalSeconds, set);
        foreach ((string stage, double ms) in timingsMs)
        {
            if (stage == RequestTimings.Total) continue;
            phaseDuration.Record(ms / 1000, new KeyValuePair<string, object?>("phase", stage));
        }
    }

    static string OutcomeName(WorkOutcome outcome) => outcome switch
    {
        WorkOutcome.Completed => "completed",
        WorkOutcome.Failed => "failed",
        WorkOutcome.Cancelled => "cancelled",
        WorkOutcome.TimedOut => "timed_out",
        WorkOutcome.ShutDown => "shut_down",
        WorkOutcome.EngineUnavailable => "engine_unavailable",
        _ => "unknown",
    };
}
