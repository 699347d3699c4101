using Glance.Engine.Runtime;
using static Glance.Engine.Tests.Memory.FakeMachineFiles;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Memory;

/// <summary>The pure check: each device's weights plus the 1 GiB loading margin against what it has left, and the message when short.</summary>
public sealed class MemoryCheckTests
{
    static readonly DeviceDemand CpuFlux = new("cpu",
    [
        new("transformer", 22 * GiB, ScalarType.BFloat16, TextEncoder: false),
        new("vae", 160L << 20, ScalarType.BFloat16, TextEncoder: false),
        new("t5", 9 * GiB, ScalarType.Float32, TextEncoder: true),
    ]);

    static long Weights(DeviceDemand demand) => demand.Components.Sum(c => c.Bytes);

    [Fact]
    public void TheWeightsPlusOneGibibyteFitExactlyAndOneByteLessDoesNot()
    {
        long needed = Weights(CpuFlux) + GiB;

        Assert.True(MemoryCheck.Assess([CpuFlux], FixedMemory.Host(needed)).Single().Fits);
        Assert.False(MemoryCheck.Assess([CpuFlux], FixedMemory.Host(needed - 1)).Single().Fits);
        Assert.Equal(needed, MemoryCheck.Assess([CpuFlux], FixedMemory.Host(needed)).Single().NeededBytes);
    }

    [Fact]
    public void EnoughMemoryPassesAndReturnsTheVerdicts()
    {
        var verdicts = MemoryCheck.Verify("/models/flux", [CpuFlux], FixedMemory.Host(64 * GiB));

        Assert.Equal(true, verdicts.Single().Fits);
        Assert.Contains("fits", MemoryCheck.Describe(verdicts.Single()), StringComparison.Ordinal);
    }

    [Fact]
    public void TooLittleMemoryNamesTheFolderEachComponentTheDeviceTheAvailableFigureItsSourceAndTheRemedies()
    {
        var error = Assert.Throws<ModelMemoryException>(() => MemoryCheck.Verify("/models/FLUX.1-dev", [CpuFlux], FixedMemory.Host(24 * GiB, "cgroup limit /sys/fs/cgroup/memory.max = 24.00 GiB")));
        string message = error.Message;

        foreach (string part in new[]
        {
            "/models/FLUX.1-dev", "cpu needs 32.16 GiB", "transformer 22.00 GiB in BFloat16", "vae 160.0 MiB in BFloat16", "t5 9.00 GiB in Float32",
            "1.00 GiB while loading", "only 24.00 GiB is available", "cgroup limit /sys/fs/cgroup/memory.max", "does NOT fit",
            "bfloat16", "raise the container's memory limit", "by at least 8.16 GiB", "Glance:Model:CheckMemory=false",
        })
        {
            Assert.Contains(part, message, StringComparison.Ordinal);
        }
        Assert.Equal(false, error.Verdicts.Single().Fits);
    }

    [Fact]
    public void AHostShortOfMemAvailableIsToldToFreeMemoryNotToRaiseALimit()
    {
        var bf16 = new DeviceDemand("cpu", [new("transformer", 10 * GiB, ScalarType.BFloat16, TextEncoder: false)]);

        string message = Assert.Throws<ModelMemoryException>(() => MemoryCheck.Verify("/m", [bf16], FixedMemory.Host(4 * GiB))).Message;

        Assert.Contains("free at least 7.00 GiB of host memory", message, StringComparison.Ordinal);
        Assert.DoesNotContain("limit", message, StringComparison.Ordinal);
        Assert.DoesNotContain("smaller dtype", message, StringComparison.Ordinal);
    }

    [Fact]
    public void AGpuPlanStillNeedsTheLoadingMarginOnTheHostAndSaysTheGpuIsNotChecked()
    {
        var cuda = new DeviceDemand("cuda", [new("transformer", 22 * GiB, ScalarType.BFloat16, TextEncoder: false)]);
        var memory = FixedMemory.Host(GiB / 2);

        var error = Assert.Throws<ModelMemoryException>(() => MemoryCheck.Verify("/m", [cuda], memory));

        Assert.Equal(["cuda", "cpu"], memory.Asked);
        var host = error.Verdicts.Single(v => v.Demand.Device == "cpu");
        Assert.Equal((0L, GiB, false), (host.Demand.WeightBytes, host.NeededBytes, host.Fits));
        Assert.Null(error.Verdicts.Single(v => v.Demand.Device == "cuda").Fits);
        Assert.Contains("cpu needs 1.00 GiB (no weights, 1.00 GiB while loading)", error.Message, StringComparison.Ordinal);
        Assert.Contains("cuda needs 23.00 GiB", error.Message, StringComparison.Ordinal);
        Assert.Contains("not checked: unknown in this test", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AGpuWithTooLittleFreeMemoryIsRefusedWithWhatToFreeAndTheTextEncoderRemedy()
    {
        var cuda = new DeviceDemand("cuda", [
            new("transformer", 22 * GiB, ScalarType.BFloat16, TextEncoder: false),
            new("t5", 9 * GiB, ScalarType.BFloat16, TextEncoder: true)]);
        var memory = new FixedMemory(new Dictionary<string, AvailableMemory>
        {
            ["cpu"] = new(64 * GiB, "MemAvailable in /fake/meminfo"),
            ["cuda"] = new(30 * GiB, "free on CUDA device 0 as its driver reports (cuMemGetInfo; 80.00 GiB in all)"),
        });

        var error = Assert.Throws<ModelMemoryException>(() => MemoryCheck.Verify("/m", [cuda], memory));

        Assert.Contains("cuda needs 32.00 GiB", error.Message, StringComparison.Ordinal);
        Assert.Contains("only 30.00 GiB is available (free on CUDA device 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("free at least 2.00 GiB on cuda (nvidia-smi", error.Message, StringComparison.Ordinal);
        Assert.Contains("Glance:Model:TextEncoderDevice=cpu", error.Message, StringComparison.Ordinal);
        Assert.True(error.Verdicts.Single(v => v.Demand.Device == "cpu").Fits);
    }

    [Fact]
    public void AnUnknownDeviceIsNotCheckedAndDoesNotFail()
    {
        var cuda = new DeviceDemand("cuda", [new("transformer", 200 * GiB, ScalarType.Float32, TextEncoder: false)]);

        var verdicts = MemoryCheck.Verify("/m", [cuda], FixedMemory.Host(8 * GiB));

        Assert.Null(verdicts.Single(v => v.Demand.Device == "cuda").Fits);
        Assert.Equal(true, verdicts.Single(v => v.Demand.Device == "cpu").Fits);
    }

    [Fact]
    public void TextEncodersOnAShortGpuAreSentToTheHostAndOnAShortHostBackToTheGpu()
    {
        var gpu = new DeviceDemand("cuda", [new("transformer", 70 * GiB, ScalarType.BFloat16, TextEncoder: false), new("t5", 9 * GiB, ScalarType.BFloat16, TextEncoder: true)]);
        var known = new FixedMemory(new Dictionary<string, AvailableMemory> { ["cuda"] = new(75 * GiB, "test"), ["cpu"] = new(64 * GiB, "test") });
        Assert.Contains("Glance:Model:TextEncoderDevice=cpu", Assert.Throws<ModelMemoryException>(() => MemoryCheck.Verify("/m", [gpu], known)).Message, StringComparison.Ordinal);

        var split = new DeviceDemand[]
        {
            new("cuda", [new("transformer", 40 * GiB, ScalarType.BFloat16, TextEncoder: false)]),
            new("cpu", [new("text_encoder", 16 * GiB, ScalarType.BFloat16, TextEncoder: true)]),
        };
        string hostShort = Assert.Throws<ModelMemoryException>(() => MemoryCheck.Verify("/m", split, FixedMemory.Host(8 * GiB))).Message;
        Assert.Contains("Glance:Model:TextEncoderDevice=model", hostShort, StringComparison.Ordinal);
        Assert.DoesNotContain("TextEncoderDevice=cpu", hostShort, StringComparison.Ordinal);
    }
}
