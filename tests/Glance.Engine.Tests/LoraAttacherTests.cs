using Glance.Engine.Lora;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

public sealed class LoraAttacherTests : IDisposable
{
    const string Qkv = "double_blocks.0.img_attn.qkv";
    readonly LoraTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    static double MaxDiff(Tensor a, Tensor b)
    {
        using var diff = (a - b).abs().max();
        return diff.item<float>();
    }

    /// <summary>A PEFT file adapting qkv, proj and linear1 with random weights and alpha 8 at rank 4.</summary>
    string RandomAdapterFile(string name)
    {
        var (qd, qu) = LoraTestFiles.RandomPair(4, 8, 24);
        var (pd, pu) = LoraTestFiles.RandomPair(4, 24, 8);
        var (ld, lu) = LoraTestFiles.RandomPair(4, 8, 16);
        return _files.Write(name, new Dictionary<string, string> { ["lora_alpha"] = "8" },
            ("diffusion_model.double_blocks.0.img_attn.qkv.lora_A.weight", qd), ("diffusion_model.double_blocks.0.img_attn.qkv.lora_B.weight", qu),
            ("diffusion_model.double_blocks.0.img_attn.proj.lora_A.weight", pd), ("diffusion_model.double_blocks.0.img_attn.proj.lora_B.weight", pu),
            ("diffusion_model.single_blocks.0.linear1.lora_A.weight", ld), ("diffusion_model.single_blocks.0.linear1.lora_B.weight", lu));
    }

    static void AttachFile(LoraToyModel model, string adapter, string path, Func<string, ModuleSlice?>? resolver = null)
    {
        using var file = LoraFile.Read(path);
        LoraAttacher.Attach(model, adapter, file, resolver);
    }

    [Fact]
    public void MergedLoraEqualsUnmerged()
    {
        using var model = new LoraToyModel();
        AttachFile(model, "style", RandomAdapterFile("style.safetensors"));
        using var x = randn(2, 5, 8);
        using var baseline = model.Run(x, null, null);
        using var routed = model.Run(x, "style", "style");

        LoraAttacher.Merge(model, "style");
        using var merged = model.Run(x, null, null);

        Assert.True(MaxDiff(routed, baseline) > 1e-2, "the adapter should change the output");
        Assert.True(MaxDiff(merged, routed) < 1e-5, $"merged differs from routed by {MaxDiff(merged, routed)}");
    }

    [Fact]
    public void UnmergeRestoresOriginalWeights()
    {
        using var model = new LoraToyModel();
        var before = model.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        AttachFile(model, "style", RandomAdapterFile("style.safetensors"));

        LoraAttacher.Merge(model, "style");
        Assert.True(MaxDiff(model.Attention.qkv.weight, before[Qkv + ".weight"]) > 1e-2);
        LoraAttacher.Unmerge(model, "style");

        foreach (var (name, tensor) in model.state_dict())
            Assert.True(MaxDiff(tensor, before[name]) < 1e-5, $"'{name}' not restored");
        Assert.True(LoraAttacher.Detach(model, "style"));
        Assert.Empty(model.Attention.qkv.AdapterNames);
    }

    [Fact]
    public void PerSampleRoutingEqualsRunningEachSampleAlone()
    {
        using var model = new LoraToyModel();
        AttachFile(model, "slow", RandomAdapterFile("slow.safetensors"));
        AttachFile(model, "fast", RandomAdapterFile("fast.safetensors"));
        string?[] routes = [null, "slow", "fast"];
        using var x = randn(3, 4, 8);

        using var batched = model.Run(x, routes);

        for (int i = 0; i < routes.Length; i++)
        {
            using var sample = x.narrow(0, i, 1);
            using var alone = model.Run(sample, routes[i]);
            using var row = batched.narrow(0, i, 1);
            Assert.True(MaxDiff(row, alone) < 1e-5, $"sample {i} ({routes[i] ?? "base"}) differs by {MaxDiff(row, alone)}");
        }
        using var slowAlone = model.Run(x.narrow(0, 1, 1), "fast");
        Assert.True(MaxDiff(batched.narrow(0, 1, 1), slowAlone) > 1e-2, "slow and fast should differ");
    }

    [Fact]
    public void RowSliceTargetChangesOnlyItsRows()
    {
        using var model = new LoraToyModel();
        var (down, up) = LoraTestFiles.RandomPair(2, 8, 8);
        string path = _files.Write("to_k.safetensors", null,
            ("transformer.attn.to_k.lora_A.weight", down), ("transformer.attn.to_k.lora_B.weight", up));
        AttachFile(model, "k", path, name => name == "attn.to_k" ? new ModuleSlice(Qkv, 8, 8) : null);

        var qkv = model.Attention.qkv;
        var routing = new AdapterRouting();
        qkv.Routing = routing;
        using var x = randn(2, 3, 8);
        using var plain = qkv.forward(x);
        Tensor adapted;
        using (routing.Route(["k", "k"], x.device)) adapted = qkv.forward(x);
        using var delta = adapted - plain;
        adapted.Dispose();

        // Alpha defaults to the rank: scale 1.
        using var expected = x.matmul(down.t()).matmul(up.t());
        Assert.True(MaxDiff(delta.narrow(2, 8, 8), expected) < 1e-5);
        using var zero = zeros(2, 3, 8);
        Assert.Equal(0, MaxDiff(delta.narrow(2, 0, 8), zero));
        Assert.Equal(0, MaxDiff(delta.narrow(2, 16, 8), zero));
    }

    [Fact]
    public void UnknownModuleFailsNamingKeyAndFile()
    {
        using var model = new LoraToyModel();
        var (down, up) = LoraTestFiles.RandomPair(2, 8, 8);
        string path = _files.Write("unknown.safetensors", null,
            ("transformer.nowhere.lora_A.weight", down), ("transformer.nowhere.lora_B.weight", up));

        var error = Assert.Throws<InvalidOperationException>(() => AttachFile(model, "x", path));
        Assert.Contains("transformer.nowhere.lora_A.weight", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Empty(model.Attention.qkv.AdapterNames);
    }

    [Fact]
    public void ShapeMismatchFailsNamingExpectedShape()
    {
        using var model = new LoraToyModel();
        var (down, up) = LoraTestFiles.RandomPair(4, 8, 23);
        string path = _files.Write("short.safetensors", null,
            (Qkv + ".lora_A.weight", down), (Qkv + ".lora_B.weight", up));

        var error = Assert.Throws<InvalidOperationException>(() => AttachFile(model, "x", path));
        Assert.Contains(Qkv + ".lora_B.weight", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("[24, 4]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AttachedPiecesTakeTheLayerDtype()
    {
        using var model = new LoraToyModel();
        model.to(ScalarType.BFloat16);
        AttachFile(model, "style", RandomAdapterFile("style.safetensors"));

        var piece = Assert.Single(model.Attention.qkv.PiecesOf("style"));
        Assert.Equal(ScalarType.BFloat16, piece.Down.dtype);
        Assert.Equal(ScalarType.BFloat16, piece.Up.dtype);
    }
    [Fact]
    public void KohyaNameFittingTwoLayersIsAnError()
    {
        using var first = new LoraLinear(2, 2);
        using var second = new LoraLinear(2, 2);
        var resolver = new LoraTargetResolver(new Dictionary<string, LoraLinear> { ["a.b_c"] = first, ["a_b.c"] = second });

        Assert.Equal("a.b_c", resolver.Resolve("a.b_c")?.Module);
        Assert.Null(resolver.Resolve("lora_unet_a_b_d"));
        var error = Assert.Throws<InvalidOperationException>(() => resolver.Resolve("lora_unet_a_b_c"));
        Assert.Contains("a_b.c", error.Message, StringComparison.Ordinal);
    }
}
