using System.Globalization;
using Glance.Engine.Checkpoints;
using Glance.Engine.Models.Flux;
using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;
using Glance.Engine.Tests.Snapshots;

namespace Glance.Engine.Tests.Memory;

/// <summary>ModelLoader's start-up memory check on tiny snapshots: a model that does not fit is refused before a weight is read; one that fits loads.</summary>
public sealed class ModelLoaderMemoryCheckTests : IClassFixture<ModelLoaderMemoryCheckTests.Snapshots>
{
    static readonly EngineOptions Cpu = new() { Device = "cpu", DType = "float32" };
    readonly Snapshots _snapshots;

    public ModelLoaderMemoryCheckTests(Snapshots snapshots) => _snapshots = snapshots;

    /// <summary>A tiny FLUX.1-dev and a tiny Qwen-Image snapshot, written once.</summary>
    public sealed class Snapshots : IDisposable
    {
        public Snapshots()
        {
            using (var flux = FluxSnapshotBuilder.Create(FluxVariant.Dev)) flux.Write(Flux);
            using (var qwen = QwenImageSnapshotBuilder.Create()) qwen.Write(Qwen);
        }

        public string Root { get; } = Path.Combine(Path.GetTempPath(), "glance-memory-check-" + Guid.NewGuid().ToString("N"));
        public string Flux => Path.Combine(Root, "FLUX.1-dev");
        public string Qwen => Path.Combine(Root, "Qwen-Image");

        public void Dispose()
        {
            if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
        }
    }

    /// <summary>Bytes this thread has read through read/pread calls so far (the kernel's per-thread I/O accounting; page-cache hits included).</summary>
    static long ThreadBytesRead() =>
        long.Parse(File.ReadAllLines("/proc/thread-self/io").Single(l => l.StartsWith("rchar:", StringComparison.Ordinal))["rchar:".Length..].Trim(), CultureInfo.InvariantCulture);

    /// <summary>The tensor data (not the headers) of the snapshot's transformer files: the first weights the loader reads.</summary>
    long TransformerDataBytes() => CheckpointFiles.Resolve(FluxSnapshot.Open(_snapshots.Flux).TransformerWeights)
        .Sum(s => SafetensorsFile.ReadHeader(s.File).Entries.Sum(e => e.End - e.Begin));

    [Fact]
    public void AFluxSnapshotThatDoesNotFitIsRefusedBeforeAnyWeightIsRead()
    {
        var memory = FixedMemory.Host(512L << 20);
        long before = ThreadBytesRead();

        var error = Assert.Throws<ModelMemoryException>(() => ModelLoader.Load(_snapshots.Flux, Cpu, memory: memory));

        long read = ThreadBytesRead() - before;
        Assert.True(read < TransformerDataBytes(), $"The refused load read {read} bytes; the transformer's weights alone are {TransformerDataBytes()}.");
        Assert.Equal(["cpu"], memory.Asked);
        foreach (string part in new[] { _snapshots.Flux, "transformer", "vae", "clip", "t5", "in Float32", "only 512.0 MiB is available", "MemAvailable in /fake/meminfo" })
            Assert.Contains(part, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFluxSnapshotThatFitsLoadsAndReadsItsWeights()
    {
        var reports = new List<string>();
        long before = ThreadBytesRead();

        using (var model = ModelLoader.Load(_snapshots.Flux, Cpu, memory: FixedMemory.Host(8L << 30), report: reports.Add)) Assert.IsType<GlanceModel>(model);

        // The measure above does see weight reads: a load that goes ahead reads at least the transformer's.
        Assert.True(ThreadBytesRead() - before >= TransformerDataBytes());
        Assert.StartsWith("Memory check: cpu needs ", Assert.Single(reports), StringComparison.Ordinal);
        Assert.EndsWith(": fits", reports[0], StringComparison.Ordinal);
    }

    [Fact]
    public void WithTheCheckOffASnapshotLoadsWhateverTheMemorySays()
    {
        var memory = FixedMemory.Host(1);
        var reports = new List<string>();

        using (var model = ModelLoader.Load(_snapshots.Flux, Cpu with { CheckMemory = false }, memory: memory, report: reports.Add)) Assert.IsType<GlanceModel>(model);

        Assert.Empty(memory.Asked);
        Assert.Contains("off", Assert.Single(reports), StringComparison.Ordinal);
    }

    [Fact]
    public void TheTextEncodersDeviceAndDTypeAreCountedApart()
    {
        var inspection = ModelInspection.Inspect(_snapshots.Flux);
        long Parameters(params string[] names) => inspection.Components.Where(c => names.Contains(c.Name)).Sum(c => c.Parameters);

        var verdict = ModelLoader.CheckMemory(_snapshots.Flux, Cpu with { DType = "bfloat16", TextEncoderDType = "float32" }, FixedMemory.Host(8L << 30)).Single();

        Assert.Equal(Parameters("transformer", "vae") * 2 + Parameters("clip", "t5") * 4, verdict.Demand.WeightBytes);
        Assert.Equal(verdict.Demand.WeightBytes + (1L << 30), verdict.NeededBytes);
    }

    [Fact]
    public void AQwenImageSnapshotThatDoesNotFitIsRefusedNamingItsThreeNetworks()
    {
        var error = Assert.Throws<ModelMemoryException>(() => ModelLoader.Load(_snapshots.Qwen, Cpu, memory: FixedMemory.Host(1L << 20)).Dispose());

        foreach (string part in new[] { _snapshots.Qwen, "transformer", "vae", "text_encoder", "does NOT fit" })
            Assert.Contains(part, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheMachinesOwnFilesAreUsedWhenNoSourceIsGiven()
    {
        var verdict = ModelLoader.CheckMemory(_snapshots.Flux, Cpu).Single();

        Assert.Equal(true, verdict.Fits);
        Assert.NotNull(verdict.Available.Bytes);
    }
}
