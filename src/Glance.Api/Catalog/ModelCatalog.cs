using Glance.Api.Adapters;
using Glance.Api.Options;
using Glance.Api.Problems;
using Glance.Api.Telemetry;
using Glance.Contracts;
using Glance.Contracts.OpenAi;
using Glance.Engine.Pipeline;
using Glance.Engine.Serving;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Glance.Api.Catalog;

/// <summary>
/// The models this server offers (the loaded one), as /v1/models describes them, and the check of a request's "model":
/// absent means the loaded model, an unknown name is a 404 that lists the available id.
/// </summary>
internal sealed class ModelCatalog(TimeProvider time, IOptions<ModelOptions> options, AdapterRegistry adapterSets, ILogger<ModelCatalog> logger)
{
    /// <summary>The server's start, reported as the model's "created" (OpenAI's field; the weights carry no date we trust).</summary>
    readonly long started = time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>
    /// The configured Glance:Model:Name (what clients have always been told to send), except when a model folder is
    /// configured by path under the default name: then the loaded model's own name (e.g. a snapshot folder's
    /// "FLUX.1-dev"), so that a FLUX.1 or Qwen-Image server does not call its model "glance-mini".
    /// </summary>
    public string IdOf(EngineDescription engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ModelOptions model = options.Value;
        return model.Path is not null && model.Name == ModelLocator.DefaultModel ? engine.ModelName : model.Name;
    }

    /// <summary>Null when <paramref name="requested"/> is absent or names the loaded model; else the 404 problem.</summary>
    public ProblemHttpResult? Unknown(string? requested, EngineDescription engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        string id = IdOf(engine);
        if (requested is null || requested.Equals(id, StringComparison.Ordinal)) return null;
        Log.UnknownModel(logger, requested, id);
        return ProblemKind.ModelNotFound.ToResult(
            $"There is no model '{requested}' on this server; it serves '{id}'. Omit 'model' to use it.",
            new Dictionary<string, object?> { ["available"] = new[] { id } });
    }

    /// <summary>"slow + fast, rank 32, scale 4" for a set: what a client needs to choose one.</summary>
    static string SetNote(AdapterSetInfo set) => set.Phases.Count == 0 ? "no adapters" : string.Join(", ", set.Phases.Select(p =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{p.Phase}: rank {string.Join("/", p.Ranks)}, scale {string.Join("/", p.Scales)}")));

    public ModelCard Card(EngineDescription engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        bool trueCfg = engine.GuidanceKind == GuidanceKinds.TrueCfg;
        return new ModelCard(
            IdOf(engine), "model", started, ModelFamilies.Publisher(engine.Family), engine.Family, engine.Licence,
            engine.Device, engine.DType,
            new ModelSizes(engine.MinSize, engine.MaxSize, engine.SizeMultiple, engine.DefaultWidth, engine.DefaultHeight),
            new ModelSteps(engine.GlanceSteps, engine.DefaultBaseSteps, engine.MaxBaseSteps),
            new ModelGuidance(engine.GuidanceKind, engine.DefaultGuidance, 0, engine.MaxGuidance),
            new ModelNegativePrompt(trueCfg, trueCfg ? engine.DefaultNegativePrompt : null),
            GenerationModes.All,
            [.. adapterSets.Loaded.Select(set => new ModelAdapter(set.Name, SetNote(set)))],
            engine.GlanceNote,
            new ModelPromptLimits(engine.MaxPromptLength, [.. engine.PromptTokenLimits.Select(l => new ModelTokenLimit(l.Encoder, l.Tokens))]),
            engine.ExamplePrompts);
    }
}
