using Glance.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

public sealed class CudaPrecisionChoiceTests
{
    static readonly Device Cuda = new(DeviceType.CUDA);

    [Theory]
    [InlineData(6, 0, ScalarType.Float32)] // P100: no bfloat16 units
    [InlineData(7, 0, ScalarType.Float32)] // V100
    [InlineData(7, 5, ScalarType.Float32)] // T4
    [InlineData(8, 0, ScalarType.BFloat16)] // A100
    [InlineData(8, 9, ScalarType.BFloat16)] // L4, L40S
    [InlineData(9, 0, ScalarType.BFloat16)] // H100, H200
    [InlineData(10, 0, ScalarType.BFloat16)] // B200
    public void AutoOnCudaTakesBFloat16FromComputeCapability8On(int major, int minor, ScalarType expected) =>
        Assert.Equal(expected, TorchRuntime.ResolveDType("auto", Cuda, cpuHasNativeBFloat16: false, new ComputeCapability(major, minor)));

    [Fact]
    public void AutoOnCudaKeepsBFloat16WhenTheCapabilityIsUnknown() =>
        Assert.Equal(ScalarType.BFloat16, TorchRuntime.ResolveDType("auto", Cuda, cpuHasNativeBFloat16: false, cudaCapability: null));

    [Fact]
    public void TheGpuCapabilityDoesNotDecideForTheCpu()
    {
        var volta = new ComputeCapability(7, 0);
        var hopper = new ComputeCapability(9, 0);
        Assert.Equal(ScalarType.BFloat16, TorchRuntime.ResolveDType("auto", CPU, cpuHasNativeBFloat16: true, volta));
        Assert.Equal(ScalarType.Float32, TorchRuntime.ResolveDType("auto", CPU, cpuHasNativeBFloat16: false, hopper));
    }

    [Fact]
    public void ExplicitChoicesOnCudaIgnoreTheCapability()
    {
        var volta = new ComputeCapability(7, 0);
        Assert.Equal(ScalarType.BFloat16, TorchRuntime.ResolveDType("bfloat16", Cuda, cpuHasNativeBFloat16: false, volta));
        Assert.Equal(ScalarType.Float16, TorchRuntime.ResolveDType("float16", Cuda, cpuHasNativeBFloat16: false, volta));
        Assert.Equal(ScalarType.Float32, TorchRuntime.ResolveDType("float32", Cuda, cpuHasNativeBFloat16: false, new ComputeCapability(9, 0)));
    }

    [Fact]
    public void WithoutACudaDriverTheCapabilityIsUnknownRatherThanAnError()
    {
        // This machine has no GPU: the driver library is absent or reports no device, and the answer is null.
        if (File.Exists("/dev/nvidiactl")) return; // a GPU host answers with a real capability instead
        Assert.Null(CudaCapability.Of(0));
    }

    [Fact]
    public void CapabilityReadsAsMajorDotMinor() => Assert.Equal("9.0", new ComputeCapability(9, 0).ToString());
}
