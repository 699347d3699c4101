using System.Diagnostics.Metrics;
using Glance.Api.Scheduling;
using Glance.Api.Telemetry;
using Glance.Engine.Runtime;
using Microsoft.Extensions.DependencyInjection;

namespace Glance.Api.Tests.Telemetry;

/// <summary>glance_device_memory_bytes and glance_device_memory_peak_bytes, read through a stand-in for the allocator's counters.</summary>
public sealed class DeviceMemoryMetricsTests : IDisposable
{
    static readonly DeviceMemoryStats OnSecondGpu = new(Allocated: 10_000, Reserved: 20_000, PeakAllocated: 30_000, PeakReserved: 40_000);

    readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    readonly RequestQueue _queue = new(4);
    readonly ServerMetrics _metrics;

    public DeviceMemoryMetricsTests() =>
        _metrics = new ServerMetrics(_services.GetRequiredService<IMeterFactory>(), _queue, deviceMemory: ordinal => ordinal == 1 ? OnSecondGpu : null);

    [Fact]
    public void ACudaModelReportsAllocatedAndReservedBytesAndTheirPeaks()
    {
        _metrics.EngineLoaded(counters: null, device: "cuda:1");

        var seen = Collect();

        Assert.Equal(
            [
                ("glance.device.memory", "allocated", 10_000L),
                ("glance.device.memory", "reserved", 20_000L),
                ("glance.device.memory.peak", "allocated", 30_000L),
                ("glance.device.memory.peak", "reserved", 40_000L),
            ],
            seen.Order());
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("cuda:0")] // a device whose counters cannot be read (no GPU kit build, or its allocator not started)
    public void NoSeriesWhereThereAreNoCountersToRead(string device)
    {
        _metrics.EngineLoaded(counters: null, device);

        Assert.Empty(Collect());
    }

    [Fact]
    public void NoSeriesBeforeTheEngineHasLoaded() => Assert.Empty(Collect());

    /// <summary>One collection of this test's meter's device memory gauges: (instrument, state, bytes).</summary>
    List<(string Instrument, string State, long Bytes)> Collect()
    {
        var factory = _services.GetRequiredService<IMeterFactory>();
        var seen = new List<(string, string, long)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Name.StartsWith("glance.device.memory", StringComparison.Ordinal))
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string state = "";
            foreach (var tag in tags) if (tag.Key == "state") state = (string)tag.Value!;
            seen.Add((instrument.Name, state, value));
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return seen;
    }

    public void Dispose()
    {
        _queue.Dispose();
        _services.Dispose();
    }
}
