using Glance.Engine.Lora;
using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;
using Glance.Engine.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

/// <summary>Load paths skip random initialisation; everything else still initialises as torch.nn does.</summary>
public sealed class ParameterInitializationTests : IDisposable
{
    readonly string _folder = Path.Combine(Path.GetTempPath(), "glance-init-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public void OutsideTheScopeLoadableLayersDrawTorchNnsInitialisation()
    {
        // torch.nn's draws (the global generator is shared with parallel tests, so its bounds are checked, not its values):
        // Linear and Conv2d uniform within 1/sqrt(fan_in), Embedding standard normal.
        using var linear = LoadableLayers.Linear(64, 32, hasBias: true, device: null, dtype: ScalarType.Float32);
        AssertDrawnWithin(linear.weight, 1 / Math.Sqrt(64));
        AssertDrawnWithin(linear.bias!, 1 / Math.Sqrt(64));
        using var conv = LoadableLayers.Conv2d(8, 16, 3, device: null, dtype: ScalarType.Float32, padding: 1);
        AssertDrawnWithin(conv.weight, 1 / Math.Sqrt(8 * 3 * 3));
        using var embedding = LoadableLayers.Embedding(100, 16, device: null, dtype: ScalarType.Float32);
        Assert.InRange(embedding.weight!.std().item<float>(), 0.8f, 1.2f);
        using var lora = new LoraLinear(64, 32, hasBias: true, ScalarType.Float32, CPU);
        AssertDrawnWithin(lora.weight, 1 / Math.Sqrt(64));
    }

    static void AssertDrawnWithin(Tensor drawn, double bound)
    {
        Assert.True(drawn.abs().max().item<float>() <= bound + 1e-6, $"a value exceeds the bound {bound}");
        Assert.True(drawn.std().item<float>() > bound / 4, "the values are (nearly) constant: not drawn");
    }

    [Fact]
    public void InsideTheScopeLayersKeepTheirKeysShapesDtypeAndForwardAndTheScopeEnds()
    {
        using var input = linspace(0, 11, 12).reshape(2, 6);
        using (ParameterInitialization.Skip())
        {
            Assert.True(ParameterInitialization.IsSkipped);
            using var linear = LoadableLayers.Linear(6, 5, hasBias: true, device: CPU, dtype: ScalarType.BFloat16);
            using var embedding = LoadableLayers.Embedding(10, 4, device: CPU, dtype: ScalarType.Float32);
            using var conv = LoadableLayers.Conv2d(3, 4, 3, device: CPU, dtype: ScalarType.Float32, stride: 2);
            using var lora = new LoraLinear(6, 5, hasBias: true, ScalarType.Float32, CPU);

            Assert.Equal(["bias", "weight"], linear.state_dict().Keys.Order(StringComparer.Ordinal));
            Assert.Equal([5L, 6L], linear.weight.shape);
            Assert.Equal(ScalarType.BFloat16, linear.weight.dtype);
            Assert.Equal(DeviceType.CPU, linear.weight.device_type);
            Assert.True(linear.weight.requires_grad);
            Assert.Equal(["weight"], embedding.state_dict().Keys);
            Assert.Equal([10L, 4L], embedding.weight!.shape);
            Assert.Equal([4L, 3L, 3L, 3L], conv.weight.shape);
            Assert.Equal([4L], conv.bias!.shape);
            Assert.Equal(DeviceType.CPU, conv.bias!.device_type);

            // Filled as a load would fill them, the layers compute what they always did.
            using (no_grad())
            {
                linear.weight.copy_(linspace(-1, 1, 30).reshape(5, 6));
                linear.bias!.copy_(linspace(0, 1, 5));
            }
            using var bf16Input = input.to(ScalarType.BFloat16);
            using var want = nn.functional.linear(bf16Input, linear.weight, linear.bias);
            using var got = linear.forward(bf16Input);
            Assert.True(want.equal(got).all().item<bool>());
            using (no_grad()) embedding.weight!.copy_(linspace(-2, 2, 40).reshape(10, 4));
            using var ids = tensor(new long[] { 9, 0, 4, 9 }).reshape(2, 2);
            using var rows = embedding.forward(ids);
            using var wantRows = embedding.weight!.index_select(0, ids.flatten()).reshape(2, 2, 4);
            Assert.True(rows.equal(wantRows).all().item<bool>());
            using var convOut = conv.forward(ones(1, 3, 7, 7));
            Assert.Equal([1L, 4L, 3L, 3L], convOut.shape);
            Assert.Equal([5L, 6L], lora.weight.shape);
        }
        Assert.False(ParameterInitialization.IsSkipped);
    }

    [Fact]
    public void CreateStillInitialisesAndLoadGivesExactlyTheSavedWeights()
    {
        using var created = GlanceModel.Create(GlanceModelPresets.Tiny, WordTokenizer.Build(["a red circle"]), CPU, ScalarType.Float32, seed: 1);
        foreach (var (key, tensor) in created.Transformer.named_parameters())
        {
            if (tensor.numel() < 16 || key.EndsWith("scale", StringComparison.Ordinal) || key.EndsWith("bias", StringComparison.Ordinal)) continue;
            Assert.True(tensor.isfinite().all().item<bool>(), $"{key} is not finite after Create");
            Assert.True(tensor.std().item<float>() > 0, $"{key} is constant after Create: not initialised");
        }
        created.Save(_folder);

        using var loaded = GlanceModel.Load(_folder, new EngineOptions { Device = "cpu", DType = "float32" });
        foreach (var (module, reference) in new (nn.Module, nn.Module)[] { (loaded.Transformer, created.Transformer), (loaded.Autoencoder, created.Autoencoder), (loaded.TextEncoder, created.TextEncoder) })
        {
            var want = reference.state_dict();
            foreach (var (key, tensor) in module.state_dict())
                Assert.True(want[key].equal(tensor).all().item<bool>(), $"'{key}' differs from the saved weight after Load");
        }
    }
}
