using Glance.Engine.Lora;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

public sealed class LoraFileTests : IDisposable
{
    const string Qkv = "double_blocks.0.img_attn.qkv";
    readonly LoraTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    static double MaxDiff(Tensor a, Tensor b)
    {
        using var diff = (a - b).abs().max();
        return diff.item<float>();
    }

    static (Tensor Down, Tensor Up) Pair(long rank, long inFeatures, long outFeatures) =>
        LoraTestFiles.RandomPair(rank, inFeatures, outFeatures);

    /// <summary>Output change of the qkv layer when the adapter is routed to every sample.</summary>
    static Tensor QkvDelta(LoraToyModel model, string adapter, Tensor x)
    {
        var qkv = model.Attention.qkv;
        var routing = new AdapterRouting();
        qkv.Routing = routing;
        using var plain = qkv.forward(x);
        using (routing.Route(Enumerable.Repeat<string?>(adapter, (int)x.shape[0]).ToList(), x.device))
        {
            using var adapted = qkv.forward(x);
            return adapted - plain;
        }
    }

    [Fact]
    public void KohyaRoundTrip()
    {
        var (down, up) = Pair(4, 8, 24);
        using var alpha = tensor(2.0f);
        string path = _files.Write("kohya.safetensors", null,
            ("lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight", down),
            ("lora_unet_double_blocks_0_img_attn_qkv.lora_up.weight", up),
            ("lora_unet_double_blocks_0_img_attn_qkv.alpha", alpha));

        using var file = LoraFile.Read(path);
        var entry = Assert.Single(file.Entries);
        Assert.Equal(LoraFileLayout.Kohya, entry.Layout);
        Assert.Equal(LoraAlphaSource.ModuleTensor, entry.AlphaSource);
        Assert.Equal(2.0, entry.Alpha);

        using var model = new LoraToyModel();
        LoraAttacher.Attach(model, "k", file, resolveTarget: null);
        using var x = randn(2, 3, 8);
        using var delta = QkvDelta(model, "k", x);
        using var expected = x.matmul(down.t()).matmul(up.t()) * (2.0 / 4.0);
        Assert.True(MaxDiff(delta, expected) < 1e-5, $"delta differs by {MaxDiff(delta, expected)}");
    }

    [Fact]
    public void PeftRoundTripKeepsScale()
    {
        var (qd, qu) = Pair(4, 8, 24);
        var (ld, lu) = Pair(2, 8, 16);
        using var linear1Alpha = tensor(1.0f);
        string path = _files.Write("peft.safetensors", new Dictionary<string, string> { ["lora_alpha"] = "16" },
            ("transformer." + Qkv + ".lora_A.weight", qd), ("transformer." + Qkv + ".lora_B.weight", qu),
            ("transformer.single_blocks.0.linear1.lora_A.weight", ld), ("transformer.single_blocks.0.linear1.lora_B.weight", lu),
            ("transformer.single_blocks.0.linear1.alpha", linear1Alpha));
        using var model = new LoraToyModel();
        using (var file = LoraFile.Read(path)) LoraAttacher.Attach(model, "a", file, resolveTarget: null);

        string saved = _files.PathFor("saved.safetensors");
        LoraFile.WritePeft(model, "a", saved);
        using var reread = LoraFile.Read(saved);

        var byModule = reread.Entries.ToDictionary(e => e.Module);
        Assert.Equal(2, byModule.Count);
        Assert.Equal("transformer." + Qkv, byModule[Qkv].FileModule);
        Assert.Equal(16.0 / 4, byModule[Qkv].ScaleWith(null), 12);
        Assert.Equal(1.0 / 2, byModule["single_blocks.0.linear1"].ScaleWith(null), 12);
        Assert.False(reread.AlphaDefaulted);
    }

    [Fact]
    public void PeftSaveReadAttachGivesIdenticalOutputs()
    {
        var (qd, qu) = Pair(4, 8, 24);
        var (pd, pu) = Pair(3, 24, 8);
        string path = _files.Write("peft.safetensors", null,
            (Qkv + ".lora_A.weight", qd), (Qkv + ".lora_B.weight", qu),
            ("double_blocks.0.img_attn.proj.lora_A.weight", pd), ("double_blocks.0.img_attn.proj.lora_B.weight", pu));
        using var model = new LoraToyModel();
        using var twin = model.Twin();
        using (var file = LoraFile.Read(path)) LoraAttacher.Attach(model, "a", file, resolveTarget: null, scaleOverride: 0.3);

        string saved = _files.PathFor("saved.safetensors");
        LoraFile.WritePeft(model, "a", saved);
        using (var file = LoraFile.Read(saved)) LoraAttacher.Attach(twin, "a", file, resolveTarget: null);

        using var x = randn(2, 3, 8);
        using var original = model.Run(x, "a", "a");
        using var restored = twin.Run(x, "a", "a");
        using var plain = twin.Run(x, null, null);
        Assert.True(MaxDiff(original, plain) > 1e-2, "the adapter should change the output");
        Assert.True(MaxDiff(original, restored) < 1e-6, $"outputs differ by {MaxDiff(original, restored)}");
    }

    [Fact]
    public void AlphaDefaultsToRankWithoutMetadata()
    {
        var (down, up) = Pair(4, 8, 24);
        string path = _files.Write("bare.safetensors", null, (Qkv + ".lora_A.weight", down), (Qkv + ".lora_B.weight", up));

        using var file = LoraFile.Read(path);
        var entry = Assert.Single(file.Entries);
        Assert.Equal(4.0, entry.Alpha);
        Assert.Equal(LoraAlphaSource.DefaultedToRank, entry.AlphaSource);
        Assert.True(file.AlphaDefaulted);
        Assert.Equal(1.0, entry.ScaleWith(null));
    }

    [Fact]
    public void AlphaComesFromDiffusersAdapterMetadata()
    {
        var (down, up) = Pair(4, 8, 24);
        var (pd, pu) = Pair(4, 24, 8);
        var metadata = new Dictionary<string, string>
        {
            ["lora_adapter_metadata"] = """{"transformer.r": 4, "transformer.lora_alpha": 8, "transformer.alpha_pattern": {"img_attn.proj": 2}}""",
        };
        string path = _files.Write("diffusers.safetensors", metadata,
            ("transformer." + Qkv + ".lora_A.weight", down), ("transformer." + Qkv + ".lora_B.weight", up),
            ("transformer.double_blocks.0.img_attn.proj.lora_A.weight", pd), ("transformer.double_blocks.0.img_attn.proj.lora_B.weight", pu));

        using var file = LoraFile.Read(path);
        var byModule = file.Entries.ToDictionary(e => e.Module);
        Assert.Equal(8.0, byModule[Qkv].Alpha);
        Assert.Equal(2.0, byModule["double_blocks.0.img_attn.proj"].Alpha);
        Assert.All(file.Entries, e => Assert.Equal(LoraAlphaSource.Metadata, e.AlphaSource));
    }

    [Fact]
    public void ScaleOverrideWins()
    {
        var (down, up) = Pair(4, 8, 24);
        string path = _files.Write("alpha16.safetensors", new Dictionary<string, string> { ["lora_alpha"] = "16" },
            (Qkv + ".lora_A.weight", down), (Qkv + ".lora_B.weight", up));

        using var model = new LoraToyModel();
        using (var file = LoraFile.Read(path)) LoraAttacher.Attach(model, "plain", file, resolveTarget: null);
        using (var file = LoraFile.Read(path, scaleOverride: 0.25)) LoraAttacher.Attach(model, "fileOverride", file, resolveTarget: null);
        using (var file = LoraFile.Read(path, scaleOverride: 0.25)) LoraAttacher.Attach(model, "attachOverride", file, resolveTarget: null, scaleOverride: 0.5);

        var qkv = model.Attention.qkv;
        Assert.Equal(4.0, Assert.Single(qkv.PiecesOf("plain")).Scale);
        Assert.Equal(0.25, Assert.Single(qkv.PiecesOf("fileOverride")).Scale);
        Assert.Equal(0.5, Assert.Single(qkv.PiecesOf("attachOverride")).Scale);

        using var x = randn(1, 2, 8);
        using var delta = QkvDelta(model, "fileOverride", x);
        using var expected = x.matmul(down.t()).matmul(up.t()) * 0.25;
        Assert.True(MaxDiff(delta, expected) < 1e-5);
    }

    [Fact]
    public void OrphanDownWeightFailsNamingKeyAndFile()
    {
        var (down, _) = Pair(4, 8, 24);
        string path = _files.Write("orphan.safetensors", null, (Qkv + ".lora_A.weight", down));

        var error = Assert.Throws<InvalidDataException>(() => LoraFile.Read(path));
        Assert.Contains(Qkv + ".lora_A.weight", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }
}
