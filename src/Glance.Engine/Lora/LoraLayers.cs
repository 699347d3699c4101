using static TorchSharp.torch;

namespace Glance.Engine.Lora;

/// <summary>The <see cref="LoraLinear"/> layers of a model, by state-dict path.</summary>
public static class LoraLayers
{
    public static Dictionary<string, LoraLinear> Of(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var layers = new Dictionary<string, LoraLinear>(StringComparer.Ordinal);
        if (model is LoraLinear self) layers[""] = self;
        foreach (var (name, module) in model.named_modules())
            if (module is LoraLinear layer) layers[name] = layer;
        return layers;
    }

    /// <summary>Makes every LoraLinear of the model follow one routing (null: adapters apply only when merged).</summary>
    public static void ShareRouting(nn.Module model, AdapterRouting? routing)
    {
        foreach (var layer in Of(model).Values) layer.Routing = routing;
    }
}
