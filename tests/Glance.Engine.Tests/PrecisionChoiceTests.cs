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
    public void APrecisionServesCorrectlyUnlessAKernelIsWrongAsTheModelsRunIt()
    {
        var exact = new KernelPrecisionResult("linear", RelativeError: 1.4e-3, RoundingError: 1.4e-3);
        var attention = new KernelPrecisionResult("attention", RelativeError: 2.1e-3, RoundingError: 1.4e-3);
        var rawConvolutionWrong = new KernelPrecisionResult("conv (libtorch)", RelativeError: 0.3, RoundingError: 1.4e-3, AsTheModelsRunIt: false);
        var modelConvolutionWrong = rawConvolutionWrong with { AsTheModelsRunIt = true };

        Assert.False(attention.IsWrong); // 1.5 roundings: a kernel's own rounding inside, not a fault
        Assert.True(KernelPrecision.ServesCorrectly([exact, attention]));
        // A faulty libtorch call the models route around does not cost the precision; one they use does.
        Assert.True(KernelPrecision.ServesCorrectly([exact, rawConvolutionWrong]));
        Assert.False(KernelPrecision.ServesCorrectly([exact, modelConvolutionWrong]));
    }

    [Fact]
    public void KernelCheckMeasuresEveryKernelAgainstFloat64()
    {
        var results = KernelPrecision.Measure(CPU, ScalarType.BFloat16);
        Assert.Contains(results, r => r.Kernel.StartsWith("conv 3x3 32 -> 3", StringComparison.Ordinal) && !r.AsTheModelsRunIt);
        Assert.All(results, r => Assert.InRange(r.RoundingError, 1e-4, 1e-2)); // one bfloat16 rounding: about 2^-8 / 3
        Assert.All(results.Where(r => r.AsTheModelsRunIt), r => Assert.True(r.RelativeError > 0, r.Kernel));
    }

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
