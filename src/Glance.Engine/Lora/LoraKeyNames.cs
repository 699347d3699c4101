namespace Glance.Engine.Lora;

/// <summary>Which tensor of an adapted module a file key holds.</summary>
internal enum LoraKeyPart
{
    Down,
    Up,
    Alpha,
}

/// <summary>
/// The one place that knows how adapter file keys are spelled: the PEFT / kohya suffixes, and the container
/// prefixes that different trainers put in front of the module name.
/// </summary>
internal static class LoraKeyNames
{
    static readonly (string Suffix, LoraKeyPart Part, LoraFileLayout? Layout)[] Suffixes =
    [
        (".lora_A.weight", LoraKeyPart.Down, LoraFileLayout.Peft),
        (".lora_B.weight", LoraKeyPart.Up, LoraFileLayout.Peft),
        (".lora_down.weight", LoraKeyPart.Down, LoraFileLayout.Kohya),
        (".lora_up.weight", LoraKeyPart.Up, LoraFileLayout.Kohya),
        (".alpha", LoraKeyPart.Alpha, null),
    ];

    // Longest first, so "model.diffusion_model." wins over "diffusion_model.".
    static readonly string[] ContainerPrefixes =
        ["base_model.model.", "model.diffusion_model.", "diffusion_model.", "transformer.", "lora_unet_"];

    public const string KohyaUnetPrefix = "lora_unet_";

    /// <summary>Splits a key into its file module and part; false for keys that are not LoRA tensors.</summary>
    public static bool TrySplit(string key, out string fileModule, out LoraKeyPart part, out LoraFileLayout? layout)
    {
        foreach (var (suffix, keyPart, keyLayout) in Suffixes)
        {
            if (key.Length > suffix.Length && key.EndsWith(suffix, StringComparison.Ordinal))
            {
                fileModule = key[..^suffix.Length];
                part = keyPart;
                layout = keyLayout;
                return true;
            }
        }
        fileModule = "";
        part = default;
        layout = null;
        return false;
    }

    /// <summary>The module name without the container prefix a trainer put in front of it.</summary>
    public static string StripContainerPrefix(string fileModule)
    {
        foreach (string prefix in ContainerPrefixes)
        {
            if (fileModule.Length > prefix.Length && fileModule.StartsWith(prefix, StringComparison.Ordinal))
                return fileModule[prefix.Length..];
        }
        return fileModule;
    }
}
