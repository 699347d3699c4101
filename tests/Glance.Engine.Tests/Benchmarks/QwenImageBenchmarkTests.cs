using Glance.Cli.Benchmarks;
using Glance.Engine.Models.Qwen;
using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;
using Glance.Engine.Tests.Snapshots;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Benchmarks;

public sealed class QwenImageBenchmarkTests : IDisposable
{
    // Width W = 2 heads x 6 = 12, MLP M = 4 x 12 = 48; RoPE axes add up to the head size.
    static readonly QwenImageConfig Small = new(
        PatchSize: 2, InChannels: 8, OutChannels: 2, NumLayers: 1, AttentionHeadDim: 6, NumAttentionHeads: 2,
        JointAttentionDim: 10, AxesDimsRope: [2, 2, 2]);

    readonly string _root = Path.Combine(Path.GetTempPath(), "glance-qwen-bench-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void BlockFlopsAreTheSumOfEveryProjectionMlpModulationAndJointAttentionMatmul()
    {
        // Per sample, 3 image tokens and 1 text token (L = 4), a Linear being 2 * tokens * in * out:
        //   img_mod.1            2 * 1 * 12 * 72       = 1728   txt_mod.1                2 * 1 * 12 * 72 = 1728
        //   to_q, to_k, to_v     3 * 2 * 3 * 12 * 12   = 2592   add_q/k/v_proj   3 * 2 * 1 * 12 * 12 =  864
        //   to_out.0             2 * 3 * 12 * 12       =  864   to_add_out           2 * 1 * 12 * 12 =  288
        //   img_mlp in + out     2 * 2 * 3 * 12 * 48   = 6912   txt_mlp in + out 2 * 2 * 1 * 12 * 48 = 2304
        //   attention QK^T + AV  2 * 2 * heads 2 * L^2 16 * head 6 = 768
        // = 12096 + 5184 + 768 = 18048 per sample; batch 2 -> 36096.
        Assert.Equal(36096, QwenBlockFlops.Block(Small, batch: 2, imageTokens: 3, textTokens: 1));
    }

    [Fact]
    public void BlockTimerTimesEveryBlockAndTheTransformerWithoutBlocks()
    {
        using var timer = new QwenBlockTimer(Small with { NumLayers = 2 }, ScalarType.Float32, CPU);
        var times = timer.Time(batch: 2, imageSize: 32, textTokens: 3, warmup: 1, iterations: 2);
        Assert.True(times.BlockMs > 0 && double.IsFinite(times.BlockMs), $"block ms {times.BlockMs}");
        Assert.True(times.RestMs > 0 && double.IsFinite(times.RestMs), $"rest ms {times.RestMs}");
    }

    [Fact]
    public void SyntheticQwenImageSnapshotLoadsThroughTheModelLoaderWithEveryWeightFromItsFiles()
    {
        string folder = Path.Combine(_root, "snapshot");
        using var log = new StringWriter();
        long bytes = QwenImageSyntheticSnapshotWriter.Write(folder, QwenImageSnapshotBuilder.TransformerConfig,
            QwenImageSnapshotBuilder.TextConfig, [1, 1, 2], QwenImageSnapshotBuilder.AutoencoderConfig, seed: 3, log);

        var snapshot = QwenImageSnapshot.Open(folder);
        Assert.Equal(QwenImageSnapshotBuilder.TransformerConfig.NumLayers, snapshot.Transformer.NumLayers);
        Assert.Equal(QwenImageSnapshotBuilder.TextConfig.NumLayers, snapshot.TextEncoder.NumLayers);
        long fileBytes = Directory.GetFiles(folder, "*.safetensors", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.InRange(bytes, 1, fileBytes);

        using var model = Assert.IsType<QwenImageModel>(ModelLoader.Load(folder, new EngineOptions { Device = "cpu", DType = "bfloat16" }));
        // The writer's values all have magnitude in [2^-7, 2^-6): a weight outside it was not read from the files.
        foreach (var module in new TorchSharp.torch.nn.Module[] { model.Transformer, model.Autoencoder, model.TextEncoder })
        {
            foreach (var (name, tensor) in module.state_dict())
            {
                using var magnitude = tensor.abs().to(ScalarType.Float32);
                Assert.True(magnitude.min().item<float>() >= 1f / 128 && magnitude.max().item<float>() < 1f / 64, $"{name} holds values not from the snapshot");
            }
        }
    }
}
