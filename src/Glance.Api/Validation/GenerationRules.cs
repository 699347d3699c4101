using System.Globalization;
using Glance.Contracts;
using Glance.Engine.Serving;

namespace Glance.Api.Validation;

/// <summary>The checks every image request passes, with bounds taken from the loaded engine's description.</summary>
internal static class GenerationRules
{
    /// <summary>Largest seed: the largest integer a JSON number carries exactly in every client.</summary>
    public const long MaxSeed = (1L << 53) - 1;

    public static string? Prompt(FieldErrors errors, string field, string? prompt, EngineDescription engine, bool required)
    {
        ArgumentNullException.ThrowIfNull(errors);
        ArgumentNullException.ThrowIfNull(engine);
        if (required && string.IsNullOrWhiteSpace(prompt))
        {
            errors.Add(field, $"'{field}' is required and must not be blank.");
            return null;
        }
        // An optional prompt is passed on exactly as sent: " " is not "" to every tokenizer (Qwen-Image's reference
        // negative prompt is a single space, one token), so blanks are the client's to choose.
        if (prompt is null) return null;
        if (prompt.Length > engine.MaxPromptLength)
            errors.Add(field, $"'{field}' has {prompt.Length} characters; at most {engine.MaxPromptLength} are accepted.");
        return prompt;
    }

    public static int Dimension(FieldErrors errors, string field, int? value, int fallback, EngineDescription engine)
    {
        ArgumentNullException.ThrowIfNull(errors);
        ArgumentNullException.ThrowIfNull(engine);
        int size = value ?? fallback;
        if (size < engine.MinSize || size > engine.MaxSize || size % engine.SizeMultiple != 0)
            errors.Add(field, $"'{field}' is {size}; it must be a multiple of {engine.SizeMultiple} between {engine.MinSize} and {engine.MaxSize}.");
        return size;
    }

    public static SamplingMode Mode(FieldErrors errors, string field, string? mode)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (mode is null || mode.Equals(GenerationModes.Glance, StringComparison.OrdinalIgnoreCase)) return SamplingMode.Glance;
        if (mode.Equals(GenerationModes.Base, StringComparison.OrdinalIgnoreCase)) return SamplingMode.Base;
        errors.Add(field, $"'{field}' is '{mode}'; it must be one of: {string.Join(", ", GenerationModes.All)}.");
        return SamplingMode.Glance;
    }

    public static int? Steps(FieldErrors errors, string field, int? steps, SamplingMode mode, EngineDescription engine)
    {
        ArgumentNullException.ThrowIfNull(errors);
        ArgumentNullException.ThrowIfNull(engine);
        if (steps is null) return mode == SamplingMode.Base ? engine.DefaultBaseSteps : null;
        if (mode != SamplingMode.Base)
        {
            errors.Add(field, $"'{field}' applies to mode '{GenerationModes.Base}' only; the '{GenerationModes.Glance}' plan has a fixed number of steps.");
            return null;
        }
        if (steps < 1 || steps > engine.MaxBaseSteps)
            errors.Add(field, $"'{field}' is {steps}; it must be between 1 and {engine.MaxBaseSteps}.");
        return steps;
    }

    public static double? Guidance(FieldErrors errors, string field, double? guidance, EngineDescription engine)
    {
        ArgumentNullException.ThrowIfNull(errors);
        ArgumentNullException.ThrowIfNull(engine);
        if (guidance is null) return null;
        if (!double.IsFinite(guidance.Value) || guidance < 0 || guidance > engine.MaxGuidance)
            errors.Add(field, string.Create(CultureInfo.InvariantCulture, $"'{field}' is {guidance}; it must be between 0 and {engine.MaxGuidance}."));
        return guidance;
    }

    /// <summary>
    /// The adapter set a request names, by its name's form only (whether it exists is the registry's answer: 404);
    /// null for the default set.
    /// </summary>
    public static string? AdapterSet(FieldErrors errors, string field, string? name)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (name is null || name == AdapterSets.Default) return null;
        if (!AdapterSets.IsValidName(name))
        {
            errors.Add(field, $"'{field}' is '{name}'; a set name matches {AdapterSets.NamePattern} (lower-case letters, digits, '-' and '_').");
            return null;
        }
        return name;
    }

    /// <summary>The seed to use for <paramref name="count"/> images (seed, seed+1, ...); drawn at random when omitted.</summary>
    public static long Seed(FieldErrors errors, string field, long? seed, int count)
    {
        ArgumentNullException.ThrowIfNull(errors);
        long highest = MaxSeed - Math.Max(0, count - 1);
        if (seed is null) return Random.Shared.NextInt64(highest + 1);
        if (seed < 0 || seed > highest)
            errors.Add(field, $"'{field}' is {seed}; it must be between 0 and {highest}" +
                (count > 1 ? $" for {count} images (they use seed, seed+1, ...)." : "."));
        return seed.Value;
    }
}
