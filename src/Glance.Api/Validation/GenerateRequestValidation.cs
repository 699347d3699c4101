using Glance.Contracts.Generation;
using Glance.Engine.Serving;

namespace Glance.Api.Validation;

/// <summary>Checks a /generate or /jobs request and turns it into the engine's spec.</summary>
internal static class GenerateRequestValidation
{
    public static GenerationSpec? Validate(GenerateRequest request, EngineDescription engine, out FieldErrors errors)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(engine);
        errors = new FieldErrors();
        string? prompt = GenerationRules.Prompt(errors, "prompt", request.Prompt, engine, required: true);
        string? negative = GenerationRules.Prompt(errors, "negativePrompt", request.NegativePrompt, engine, required: false);
        int width = GenerationRules.Dimension(errors, "width", request.Width, engine.DefaultWidth, engine);
        int height = GenerationRules.Dimension(errors, "height", request.Height, engine.DefaultHeight, engine);
        SamplingMode mode = GenerationRules.Mode(errors, "mode", request.Mode);
        int? steps = GenerationRules.Steps(errors, "steps", request.Steps, mode, engine);
        double? guidance = GenerationRules.Guidance(errors, "guidance", request.Guidance, engine);
        long seed = GenerationRules.Seed(errors, "seed", request.Seed, count: 1);
        string? adapters = GenerationRules.AdapterSet(errors, "adapters", request.Adapters);
        return errors.IsEmpty ? new GenerationSpec(prompt!, negative, width, height, seed, mode, steps, guidance, adapters) : null;
    }
}
