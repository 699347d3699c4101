using Glance.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

public sealed class PrecisionChoiceTests
{
    const string Zen4 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni\n\nprocessor\t: 1\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni\n";
    const string SapphireRapids = "processor\t: 0\nflags\t\t: avx512f amx_bf16 amx_tile amx_int8\n";
    const string Skylake = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512bw avx512_vnni\nbugs\t\t: avx512_bf16_is_not_a_flag_here\n";

    [Theory]
    [InlineData(Zen4, true)]
    [InlineData(SapphireRapids, true)]
    [InlineData(Skylake, false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void NativeBFloat16IsReadFromTheFlagsLine(string? cpuInfo, bool expected) =>
        Assert.Equal(expected, CpuFeatures.ReportsNativeBFloat16(cpuInfo));

    [Theory]
    [InlineData(true, ScalarType.BFloat16)]
    [InlineData(false, ScalarType.Float32)]
    public void AutoOnCpuTakesBFloat16OnlyWhereItIsNative(bool native, ScalarType expected) =>
        Assert.Equal(expected, TorchRuntime.ResolveDType("auto", CPU, native));

    [Fact]
    public void AutoOnCudaTakesBFloat16() =>
        Assert.Equal(ScalarType.BFloat16, TorchRuntime.ResolveDType("auto", new Device(DeviceType.CUDA), cpuHasNativeBFloat16: false));

    [Fact]
    public void ExplicitChoicesIgnoreTheHost()
    {
        Assert.Equal(ScalarType.Float32, TorchRuntime.ResolveDType("float32", CPU, cpuHasNativeBFloat16: true));
        Assert.Equal(ScalarType.BFloat16, TorchRuntime.ResolveDType("bf16", CPU, cpuHasNativeBFloat16: false));
        Assert.Throws<ArgumentException>(() => TorchRuntime.ResolveDType("float16", CPU, cpuHasNativeBFloat16: true));
        var error = Assert.Throws<ArgumentException>(() => TorchRuntime.ResolveDType("int8", CPU, cpuHasNativeBFloat16: true));
        Assert.Contains("'int8'", error.Message, StringComparison.Ordinal);
    }
}
