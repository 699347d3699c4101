using Glance.Engine.Lora;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

public sealed class LoraTrainableTests
{
    static readonly string[] Targets = ["double_blocks.0.img_attn.qkv", "single_blocks.0.linear1"];

    [Fact]
    public void CreateTrainableStartsAtTheBaseModel()
    {
        using var model = new LoraToyModel();
        var trainable = LoraAttacher.CreateTrainable(model, "fast", Targets, rank: 2, alpha: 4, seed: 7);

        Assert.Equal(4, trainable.Count);
        Assert.All(trainable, p => Assert.True(p.requires_grad));
        var piece = Assert.Single(model.Attention.qkv.PiecesOf("fast"));
        Assert.Equal(2.0, piece.Scale);
        Assert.Equal("double_blocks.0.img_attn.qkv", piece.TargetName);
        double bound = 1 / Math.Sqrt(LoraToyModel.Dim);
        Assert.True(piece.Down.abs().max().item<float>() <= bound);
        Assert.True(piece.Down.abs().max().item<float>() > 0);
        Assert.Equal(0, piece.Up.abs().max().item<float>());

        using var x = randn(2, 3, 8);
        using var adapted = model.Run(x, "fast", "fast");
        using var plain = model.Run(x, null, null);
        Assert.True(adapted.allclose(plain));
    }

    [Fact]
    public void SameSeedGivesSameAdapter()
    {
        using var a = new LoraToyModel();
        using var b = new LoraToyModel();
        var first = LoraAttacher.CreateTrainable(a, "fast", Targets, rank: 2, alpha: 4, seed: 11);
        var second = LoraAttacher.CreateTrainable(b, "fast", Targets, rank: 2, alpha: 4, seed: 11);
        Assert.True(first[0].allclose(second[0], rtol: 0, atol: 0));
        Assert.True(first[2].allclose(second[2], rtol: 0, atol: 0));
    }

    [Fact]
    public void AdamWStepsReduceLossAndOnlyTrainTheAdapter()
    {
        using var model = SeededWeights.Redraw(new LoraToyModel(), seed: 4);
        var baseWeights = model.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        var trainable = LoraAttacher.CreateTrainable(model, "fast", Targets, rank: 2, alpha: 4, seed: 3);
        using var optimizer = optim.AdamW(trainable, lr: 1e-2, weight_decay: 0.01);
        using var generator = new Generator(5, CPU);
        using var x = randn([4, 3, 8], generator: generator);
        using var target = randn([4, 3, 8], generator: generator);
        string?[] routes = ["fast", "fast", "fast", "fast"];

        var losses = new List<double>();
        for (int step = 0; step < 15; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.mse_loss(model.Run(x, routes), target);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }

        Assert.True(losses[^1] < losses[0] * 0.95, $"loss went from {losses[0]} to {losses[^1]}");
        Assert.All(trainable, p => Assert.True(p.grad is not null && p.grad.abs().max().item<float>() > 0));
        foreach (var (name, tensor) in model.state_dict())
        {
            Assert.True(tensor.grad is null, $"'{name}' received a gradient");
            Assert.True(tensor.allclose(baseWeights[name], rtol: 0, atol: 0), $"'{name}' changed");
        }
    }

    [Fact]
    public void UnknownTargetFailsNamingIt()
    {
        using var model = new LoraToyModel();
        var error = Assert.Throws<ArgumentException>(() =>
            LoraAttacher.CreateTrainable(model, "fast", ["double_blocks.0.img_attn.nope"], rank: 2, alpha: 4, seed: 1));
        Assert.Contains("double_blocks.0.img_attn.nope", error.Message, StringComparison.Ordinal);
    }
}
