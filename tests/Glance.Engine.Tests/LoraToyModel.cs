using Glance.Engine.Runtime;
using Glance.Engine.Lora;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

#pragma warning disable IDE1006, CA1051 // field names are the BFL state-dict names

/// <summary>A tiny stand-in for the FLUX transformer: LoraLinear layers at BFL-like paths.</summary>
internal sealed class LoraToyModel : nn.Module<Tensor, Tensor>
{
    public const long Dim = 8;

    public ModuleList<ToyDoubleBlock> double_blocks;
    public ModuleList<ToySingleBlock> single_blocks;

    public LoraToyModel() : base(nameof(LoraToyModel))
    {
        double_blocks = new ModuleList<ToyDoubleBlock>(new ToyDoubleBlock());
        single_blocks = new ModuleList<ToySingleBlock>(new ToySingleBlock());
        RegisterComponents();
    }

    public ToyAttention Attention => double_blocks[0].img_attn;

    /// <summary>A second model with the same weights.</summary>
    public LoraToyModel Twin()
    {
        var twin = new LoraToyModel();
        using (no_grad())
        {
            var source = state_dict();
            foreach (var (name, tensor) in twin.state_dict()) tensor.copy_(source[name]);
        }
        return twin;
    }

    /// <summary>Runs the model with each batch row routed to its adapter (null: base weights).</summary>
    public Tensor Run(Tensor x, params string?[] adapterPerSample)
    {
        var routing = new AdapterRouting();
        LoraLayers.ShareRouting(this, routing);
        using (routing.Route(adapterPerSample, x.device))
            return forward(x);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input;
        foreach (var block in double_blocks) x = block.forward(x);
        foreach (var block in single_blocks) x = block.forward(x);
        return x.MoveToOuterDisposeScope();
    }
}

internal sealed class ToyDoubleBlock : nn.Module<Tensor, Tensor>
{
    public ToyAttention img_attn;

    public ToyDoubleBlock() : base(nameof(ToyDoubleBlock))
    {
        img_attn = new ToyAttention();
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => input.Plus(img_attn.forward(input));
}

internal sealed class ToyAttention : nn.Module<Tensor, Tensor>
{
    public LoraLinear qkv;
    public LoraLinear proj;

    public ToyAttention() : base(nameof(ToyAttention))
    {
        qkv = new LoraLinear(LoraToyModel.Dim, 3 * LoraToyModel.Dim);
        proj = new LoraLinear(3 * LoraToyModel.Dim, LoraToyModel.Dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => proj.forward(qkv.forward(input));
}

internal sealed class ToySingleBlock : nn.Module<Tensor, Tensor>
{
    public LoraLinear linear1;
    public LoraLinear linear2;

    public ToySingleBlock() : base(nameof(ToySingleBlock))
    {
        linear1 = new LoraLinear(LoraToyModel.Dim, 2 * LoraToyModel.Dim);
        linear2 = new LoraLinear(2 * LoraToyModel.Dim, LoraToyModel.Dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => input.Plus(linear2.forward(nn.functional.gelu(linear1.forward(input))));
}
#pragma warning restore IDE1006, CA1051
