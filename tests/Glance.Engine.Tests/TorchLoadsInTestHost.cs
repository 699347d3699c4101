using Glance.Engine.Runtime;
using TorchSharp;

namespace Glance.Engine.Tests;

public class TorchLoadsInTestHost
{
    [Fact]
    public void TensorMatmulRunsInsideTestHost()
    {
        using var a = TensorArithmetic.IntegerRange(0, 6, torch.float32, null).reshape(2, 3);
        using var b = torch.ones(3, 2);
        using var c = a.matmul(b);
        Assert.Equal(new float[] { 3, 3, 12, 12 }, c.data<float>().ToArray());
    }
}
