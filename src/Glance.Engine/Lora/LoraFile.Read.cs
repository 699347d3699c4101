using Glance.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Glance.Engine.Lora;

/// <summary>Reads and writes LoRA adapter files (safetensors).</summary>
public static partial class LoraFile
{
    /// <summary>
    /// Reads a PEFT/diffusers or kohya adapter file. Alpha per module: a "&lt;module&gt;.alpha" tensor, else the
    /// header metadata, else the rank. <paramref name="scaleOverride"/>, when set, replaces alpha / rank as the scale.
    /// </summary>
    public static LoraAdapterFile Read(string path, double? scaleOverride = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var storage = SafetensorsFile.Read(path);
        try
        {
            var entries = ReadEntries(storage);
            return new LoraAdapterFile(path, entries, storage.Metadata, scaleOverride, storage);
        }
        catch
        {
            storage.Dispose();
            throw;
        }
    }

    static List<LoraFileEntry> ReadEntries(SafetensorsFile storage)
    {
        string path = storage.Path;
        var modules = new Dictionary<string, ModuleTensors>(StringComparer.Ordinal);
        foreach (var (key, tensor) in storage.Tensors)
        {
            if (!LoraKeyNames.TrySplit(key, out string fileModule, out var part, out var layout))
                throw new InvalidDataException($"Key '{key}' in '{path}' is not a LoRA tensor; expected names ending in .lora_A.weight, .lora_B.weight, .lora_down.weight, .lora_up.weight or .alpha.");
            if (!modules.TryGetValue(fileModule, out var tensors)) modules[fileModule] = tensors = new ModuleTensors();
            tensors.Set(part, layout, key, tensor, path);
        }

        var alphaMetadata = LoraAlphaMetadata.Parse(storage.Metadata, path);
        var entries = new List<LoraFileEntry>(modules.Count);
        foreach (var (fileModule, tensors) in modules)
            entries.Add(tensors.ToEntry(fileModule, alphaMetadata, path));
        if (entries.Count == 0) throw new InvalidDataException($"'{path}' holds no LoRA tensors.");
        return entries;
    }

    sealed class ModuleTensors
    {
        Tensor? _down, _up, _alpha;
        string? _downKey, _upKey, _alphaKey;
        LoraFileLayout? _layout;

        public void Set(LoraKeyPart part, LoraFileLayout? layout, string key, Tensor tensor, string path)
        {
            if (layout is not null)
            {
                if (_layout is not null && _layout != layout)
                    throw new InvalidDataException($"Key '{key}' in '{path}' mixes PEFT (lora_A/lora_B) and kohya (lora_down/lora_up) names for one module.");
                _layout = layout;
            }
            switch (part)
            {
                case LoraKeyPart.Down: (_down, _downKey) = (tensor, key); break;
                case LoraKeyPart.Up: (_up, _upKey) = (tensor, key); break;
                default: (_alpha, _alphaKey) = (tensor, key); break;
            }
        }

        public LoraFileEntry ToEntry(string fileModule, LoraAlphaMetadata alphaMetadata, string path)
        {
            if (_down is null || _up is null || _layout is null)
            {
                string present = _downKey ?? _upKey ?? _alphaKey!;
                throw new InvalidDataException($"Key '{present}' in '{path}' has no matching {(_down is null ? "down (lora_A / lora_down)" : "up (lora_B / lora_up)")} weight for module '{fileModule}'.");
            }
            if (_down.dim() != 2)
                throw new InvalidDataException($"Key '{_downKey}' in '{path}' has shape [{string.Join(", ", _down.shape)}]; expected [rank, in] (only linear LoRAs are supported).");
            if (_up.dim() != 2 || _up.shape[1] != _down.shape[0])
                throw new InvalidDataException($"Key '{_upKey}' in '{path}' has shape [{string.Join(", ", _up.shape)}]; expected [out, {_down.shape[0]}] to match '{_downKey}'.");

            string module = LoraKeyNames.StripContainerPrefix(fileModule);
            long rank = _down.shape[0];
            var (alpha, source) = ResolveAlpha(fileModule, module, rank, alphaMetadata, path);
            return new LoraFileEntry(fileModule, module, _layout.Value, _down, _up, alpha, source);
        }

        (double Alpha, LoraAlphaSource Source) ResolveAlpha(string fileModule, string module, long rank, LoraAlphaMetadata alphaMetadata, string path)
        {
            if (_alpha is not null)
            {
                if (_alpha.numel() != 1)
                    throw new InvalidDataException($"Key '{_alphaKey}' in '{path}' has shape [{string.Join(", ", _alpha.shape)}]; expected a scalar.");
                using var value = _alpha.to(ScalarType.Float64);
                return (value.reshape(1)[0].item<double>(), LoraAlphaSource.ModuleTensor);
            }
            double? fromHeader = alphaMetadata.AlphaFor(fileModule, module);
            return fromHeader is double alpha ? (alpha, LoraAlphaSource.Metadata) : (rank, LoraAlphaSource.DefaultedToRank);
        }
    }
}
