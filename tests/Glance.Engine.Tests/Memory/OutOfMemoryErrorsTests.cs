using System.Runtime.InteropServices;
using Glance.Engine.Runtime;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Memory;

#pragma warning disable CA2201 // The exceptions the runtime and TorchSharp throw are what these tests must recognise.

public sealed class OutOfMemoryErrorsTests
{
    [Theory]
    [InlineData("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 139.72 GiB of which 1.02 GiB is free.")]
    [InlineData("DefaultCPUAllocator: not enough memory: you tried to allocate 68719476736 bytes.")]
    [InlineData("CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`")]
    public void AllocatorErrorsAsTorchSharpRethrowsThemAreOutOfMemory(string message) =>
        Assert.True(OutOfMemoryErrors.Is(new ExternalException(message)));

    [Fact]
    public void TheManagedHeapRunningOutCountsToo() => Assert.True(OutOfMemoryErrors.Is(new OutOfMemoryException()));

    [Fact]
    public void AWrappedAllocatorErrorIsFound() =>
        Assert.True(OutOfMemoryErrors.Is(new InvalidOperationException("step failed", new ExternalException("CUDA out of memory."))));

    [Theory]
    [InlineData("The size of tensor a (4) must match the size of tensor b (3) at non-singleton dimension 1")]
    [InlineData("Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!")]
    public void OtherLibtorchErrorsAreNot(string message) => Assert.False(OutOfMemoryErrors.Is(new ExternalException(message)));

    [Fact]
    public void AnOutOfMemoryMessageOutsideLibtorchIsNot() =>
        Assert.False(OutOfMemoryErrors.Is(new InvalidOperationException("the adapter file says it ran out of memory")));

    [Fact]
    public void TheCpuAllocatorsOwnErrorIsRecognised()
    {
        // A real allocation failure through TorchSharp: far more elements than any machine has bytes.
        var error = Record.Exception(() => empty([1L << 50], dtype: ScalarType.Float32));
        Assert.NotNull(error);
        Assert.True(OutOfMemoryErrors.Is(error), error.Message);
    }
}
