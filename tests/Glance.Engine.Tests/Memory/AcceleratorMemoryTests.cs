using Glance.Engine.Runtime;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Memory;

/// <summary>
/// The allocator exports exist only in the GPU kit's LibTorchSharp; these tests hold with TorchSharp's NuGet natives
/// (exports absent) and with the kit's build on a CPU libtorch (exports present, no accelerator; docs/gpu.md: the
/// rehearsal runs this suite on that build). No test here puts a tensor on a GPU, so no allocator starts even where
/// one is visible.
/// </summary>
public sealed class AcceleratorMemoryTests
{
    [Fact]
    public void WithoutAnAcceleratorInUseEveryCallAnswersNotAvailable()
    {
        Assert.False(AcceleratorMemory.EmptyCache());
        Assert.Null(AcceleratorMemory.Of(0));
        Assert.False(AcceleratorMemory.ResetPeak(0));
    }

    [Fact]
    public void ATensorOnTheCpuDoesNotStartAnAcceleratorAllocator()
    {
        using var tensor = ones(1024, 1024);
        Assert.Null(AcceleratorMemory.Of(0));
    }

    [Fact]
    public void NegativeOrdinalsAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => AcceleratorMemory.Of(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => AcceleratorMemory.ResetPeak(-1));
    }

    [Fact]
    public void TheReportLineSaysWhyThereAreNoCountersOnTheCpu()
    {
        string line = AcceleratorMemory.Describe(CPU);
        Assert.Equal(
            AcceleratorMemory.IsReachable
                ? "device memory counters: reachable; none for device cpu"
                : "device memory counters: not available (this LibTorchSharp has no GlanceAccelerator exports; the GPU kit's build adds them)",
            line);
    }

    [Fact]
    public void CountersAreFormattedInDecimalGigabytes() =>
        Assert.Equal(
            "allocated 1.50 GB, reserved 2.00 GB, peak allocated 3.25 GB, peak reserved 4.00 GB",
            AcceleratorMemory.Format(new DeviceMemoryStats(1_500_000_000, 2_000_000_000, 3_250_000_000, 4_000_000_000)));

    [Theory]
    [InlineData("cuda", 0)]
    [InlineData("cuda:0", 0)]
    [InlineData("cuda:3", 3)]
    public void OrdinalsFollowLibtorchsNumbering(string name, int ordinal) =>
        Assert.Equal(ordinal, CudaOrdinal.Of(new Device(name)));
}
