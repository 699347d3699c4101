using Glance.Engine.Runtime;
using Glance.Engine.Sampling;
using Glance.Engine.Serving;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Pipeline;

/// <summary>
/// The step-level engine over a <see cref="DiffusionModel"/>: every sample in a step batch carries its own
/// sigma, adapter, conditioning and guidance, so requests at different steps and phases share one forward.
/// All calls must come from the thread that owns the model.
/// </summary>
public sealed partial class TorchGlanceEngine : IGlanceEngine
{
    readonly bool _ownsModel;
    readonly PromptEncodingCache? _promptCache;
    readonly Dictionary<string, AdapterSetFiles> _sets = new(StringComparer.Ordinal);

    /// <param name="options">Read for the prompt cache (<see cref="EngineOptions.PromptCacheEntries"/>,
    /// <see cref="EngineOptions.PromptCacheMiB"/>) and the adapters' device budget (<see cref="EngineOptions.MaxResidentAdapterMiB"/>);
    /// unset: the defaults, cache on, adapters unlimited.</param>
    public TorchGlanceEngine(DiffusionModel model, bool ownsModel = true, EngineOptions? options = null)
        : this(model, (options ?? new EngineOptions()).PromptCacheEntries, (options ?? new EngineOptions()).PromptCacheMiB * 1024L * 1024L, ownsModel,
            options?.MaxResidentAdapterMiB * 1024L * 1024L)
    {
    }

    /// <summary>Prompt cache and adapter limits in bytes rather than MiB, so that tests can fill them with a few tiny tensors.</summary>
    internal TorchGlanceEngine(DiffusionModel model, int promptCacheEntries, long promptCacheBytes, bool ownsModel = true, long? residentAdapterBytes = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        if (promptCacheEntries < 0 || promptCacheBytes < 0)
            throw new ArgumentOutOfRangeException(nameof(promptCacheEntries), $"Prompt cache limits must not be negative; received {promptCacheEntries} entries and {promptCacheBytes} bytes.");
        _ownsModel = ownsModel;
        if (promptCacheEntries > 0 && promptCacheBytes > 0) _promptCache = new PromptEncodingCache(promptCacheEntries, promptCacheBytes);
        _residency = new Lora.ResidentAdapters(model.Denoiser, model.Device, residentAdapterBytes);
        TrackAdapters();
        var c = model.Profile;
        Description = new EngineDescription(
            c.Name, model.Device.ToString(), model.DType.ToString(),
            c.DefaultWidth, c.DefaultHeight, c.MinSize, c.MaxSize, c.PixelsPerToken,
            c.Guidance.DefaultScale, c.Guidance.MaxScale, c.DefaultBaseSteps, c.MaxBaseSteps, c.MaxPromptLength,
            model.Adapters, GlanceNoteFor(model.Adapters), model.AdapterNotes)
        {
            Family = c.Family,
            GuidanceKind = c.DistilledGuidance ? GuidanceKinds.Distilled : c.Guidance.TrueCfg ? GuidanceKinds.TrueCfg : GuidanceKinds.None,
            DefaultNegativePrompt = c.DefaultNegativePrompt,
            GlanceSteps = PlanBuilder.Glance(c.Schedule, model.ImageSeqLen(c.DefaultWidth, c.DefaultHeight), null, null).Steps().Count,
            PromptTokenLimits = model.PromptTokenLimits,
            ExamplePrompts = model.ExamplePrompts ?? ModelFamilies.BuiltInExamples(c.Family),
            Licence = ModelFamilies.Licence(c.Family),
        };
    }

    static string? GlanceNoteFor(IReadOnlyList<string> adapters)
    {
        var missing = new[] { PlanBuilder.SlowPhase, PlanBuilder.FastPhase }.Where(a => !adapters.Contains(a)).ToArray();
        return missing.Length == 0 ? null
            : $"Glance mode runs the Glance plan without the {string.Join(" and ", missing)} adapter{(missing.Length > 1 ? "s" : "")} (not configured): the same 10 steps on the base weights.";
    }

    public DiffusionModel Model { get; }
    public EngineDescription Description { get; }
    public PromptCacheCounters? PromptCache => _promptCache?.Counters;

    /// <summary>The prompt-encoding cache; null when it is off.</summary>
    internal PromptEncodingCache? PromptEncodings => _promptCache;

    /// <summary>Text-encoder batches run by <see cref="Start(IReadOnlyList{ValueTuple{GenerationSpec, SamplingPlan}})"/> (a test seam).</summary>
    internal int TextEncoderBatches { get; private set; }

    /// <summary>Texts those batches encoded.</summary>
    internal int TextsEncoded { get; private set; }

    /// <summary>
    /// A whole generation at the smallest size, PNG included, in Glance mode when the model has the adapters: every
    /// phase's adapter (and its cached merged weights), the decoder and the PNG encoder are ready before the first
    /// request (measured on glance-mini: the first request took 481 ms when warm-up ran one base step and no PNG, 245-253
    /// ms now; later ones 166-182 ms).
    /// </summary>
    public void WarmUp()
    {
        var glance = new GenerationSpec("warm-up", null, Description.MinSize, Description.MinSize, 0, SamplingMode.Glance);
        bool hasAdapters = PlanFor(glance).Phases.Any(phase => phase.Adapter is not null);
        GenerationRunner.Generate(this, hasAdapters ? glance : glance with { Mode = SamplingMode.Base, Steps = 1 });
    }

    /// <summary>
    /// The plan a spec runs: the Glance plan (Slow then Fast adapter; a phase whose adapter the model lacks runs on the
    /// base weights) or an N-step base plan.
    /// </summary>
    public SamplingPlan PlanFor(GenerationSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int seqLen = Model.ImageSeqLen(spec.Width, spec.Height);
        string set = spec.AdapterSetName;
        if (set != Serving.AdapterSets.Default && !_sets.ContainsKey(set))
            throw new ArgumentException($"Adapter set '{set}' is not attached (attached: {string.Join(", ", AdapterSetNames)}).", nameof(spec));
        string? Attached(string phase) => Model.Adapters.Contains(Serving.AdapterSets.AdapterName(set, phase)) ? Serving.AdapterSets.AdapterName(set, phase) : null;
        return spec.Mode == SamplingMode.Glance
            ? PlanBuilder.Glance(Model.Profile.Schedule, seqLen, Attached(PlanBuilder.SlowPhase), Attached(PlanBuilder.FastPhase))
            : PlanBuilder.Base(Model.Profile.Schedule, seqLen, spec.Steps ?? Model.Profile.DefaultBaseSteps);
    }

    IEnumerable<string> AdapterSetNames => AdapterSets.Select(s => s.Name);

    public IReadOnlyList<AdapterSetInfo> AdapterSets
    {
        get
        {
            var sets = new List<AdapterSetInfo>(_sets.Count + 1);
            var defaultPhases = PhasesOf(Serving.AdapterSets.Default);
            if (defaultPhases.Count > 0) sets.Add(new AdapterSetInfo(Serving.AdapterSets.Default, defaultPhases, null) { Residency = ResidencyOf(Serving.AdapterSets.Default) });
            sets.AddRange(_sets.Values.OrderBy(f => f.Name, StringComparer.Ordinal)
                .Select(f => new AdapterSetInfo(f.Name, PhasesOf(f.Name), f.Fingerprint) { Residency = ResidencyOf(f.Name) }));
            return sets;
        }
    }

    List<AdapterPhaseInfo> PhasesOf(string set)
    {
        var phases = new List<AdapterPhaseInfo>(2);
        foreach (string phase in new[] { PlanBuilder.SlowPhase, PlanBuilder.FastPhase })
        {
            string adapter = Serving.AdapterSets.AdapterName(set, phase);
            if (!Model.Adapters.Contains(adapter)) continue;
            var pieces = Lora.LoraLayers.Of(Model.Denoiser).Values.SelectMany(layer => layer.PiecesOf(adapter)).ToArray();
            var file = Model.AttachedAdapters.GetValueOrDefault(adapter);
            phases.Add(new AdapterPhaseInfo(phase, file is null ? "" : Path.GetFileName(file.File), pieces.Length,
                [.. pieces.Select(p => p.Rank).Distinct().Order()], [.. pieces.Select(p => p.Scale).Distinct().Order()],
                file?.Bytes ?? pieces.Sum(p => (p.Down.numel() + p.Up.numel()) * p.Down.ElementSize)));
        }
        return phases;
    }

    /// <summary>
    /// Attaches a set's files, all or nothing: each file is first attached under a scratch name (so a bad key fails before
    /// anything changes), then the set's previous files, if any, make way for them.
    /// </summary>
    public void AttachAdapterSet(AdapterSetFiles files)
    {
        var phases = CheckAdapterSetFiles(files);
        DetachAdapterSet(files.Name);
        foreach (var (phase, path) in phases) Model.AttachAdapter(Serving.AdapterSets.AdapterName(files.Name, phase), path);
        _sets[files.Name] = files;
        TrackAdapters();
    }

    public void CheckAdapterSet(AdapterSetFiles files) => CheckAdapterSetFiles(files);

    /// <summary>Attaches each file under a scratch name and detaches it again: the checks of a real attach, nothing kept.</summary>
    (string Phase, string Path)[] CheckAdapterSetFiles(AdapterSetFiles files)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (!Serving.AdapterSets.IsValidName(files.Name) || files.Name == Serving.AdapterSets.Default)
            throw new ArgumentException($"'{files.Name}' cannot name an added adapter set; expected {Serving.AdapterSets.NamePattern}, not '{Serving.AdapterSets.Default}'.", nameof(files));
        (string Phase, string Path)[] phases = [.. new[] { (PlanBuilder.SlowPhase, files.SlowPath), (PlanBuilder.FastPhase, files.FastPath) }
            .Where(p => p.Item2 is not null).Select(p => (p.Item1, p.Item2!))];
        if (phases.Length == 0) throw new ArgumentException($"Adapter set '{files.Name}' has neither a slow nor a fast file.", nameof(files));
        const string scratch = "~check";
        try
        {
            foreach (var (phase, path) in phases) Model.AttachAdapter(Serving.AdapterSets.AdapterName(scratch, phase), path);
        }
        finally
        {
            foreach (var (phase, _) in phases) Model.DetachAdapter(Serving.AdapterSets.AdapterName(scratch, phase));
        }
        return phases;
    }

    public bool DetachAdapterSet(string name)
    {
        if (!_sets.Remove(name)) return false;
        foreach (string phase in new[] { PlanBuilder.SlowPhase, PlanBuilder.FastPhase })
            Model.DetachAdapter(Serving.AdapterSets.AdapterName(name, phase));
        TrackAdapters();
        return true;
    }

    /// <summary>Training adapters carry this prefix, which no set name can start with, so no request can route to them.</summary>
    const string TrainingPrefix = "~train/";

    public IAdapterTrainingRun StartTraining(AdapterTrainingSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!Serving.AdapterSets.IsValidName(spec.SetName) || spec.SetName == Serving.AdapterSets.Default)
            throw new ArgumentException($"'{spec.SetName}' cannot name a trained adapter set; expected {Serving.AdapterSets.NamePattern}, not '{Serving.AdapterSets.Default}'.", nameof(spec));
        if (spec.Phases.Count == 0 || spec.Phases.Distinct(StringComparer.Ordinal).Count() != spec.Phases.Count)
            throw new ArgumentException($"Train each of slow and fast at most once; received [{string.Join(", ", spec.Phases)}].", nameof(spec));
        var recipe = Model.TrainingRecipe;
        var targets = Model.AdapterTargets(spec.Targets ?? recipe.Targets);
        var phases = spec.Phases.Select(phase => recipe.For(phase, targets, spec.Rank, spec.LearningRate, spec.Steps, spec.Seed)).ToArray();
        string prefix = $"{TrainingPrefix}{spec.SetName}-{Guid.NewGuid():N}/";
        return new Training.LoraTrainingRun(Model, spec.Image, spec.Caption, phases, phase => prefix + phase);
    }

    public IReadOnlyList<GenerationState> Start(IReadOnlyList<GenerationSpec> specs)
    {
        ArgumentNullException.ThrowIfNull(specs);
        return Start(specs.Select(s => (s, PlanFor(s))).ToArray());
    }

    /// <summary>Starts requests with explicit plans (evaluation runs a Glance plan with adapters switched off).</summary>
    public IReadOnlyList<GenerationState> Start(IReadOnlyList<(GenerationSpec Spec, SamplingPlan Plan)> requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (requests.Count == 0) return [];
        foreach (var (spec, plan) in requests) CheckPlanAdapters(plan);

        bool trueCfg = Model.Profile.Guidance.TrueCfg;
        var guidance = requests.Select(r => r.Spec.Guidance ?? Model.Profile.Guidance.DefaultScale).ToArray();
        var needsNegative = requests.Select((r, i) => trueCfg && guidance[i] != 1.0).ToArray();
        var texts = requests.Select(r => r.Spec.Prompt)
            .Concat(requests.Where((r, i) => needsNegative[i]).Select(r => r.Spec.NegativePrompt ?? Model.Profile.DefaultNegativePrompt))
            .ToArray();

        using var scope = NewDisposeScope();
        using var mode = inference_mode();
        var encoded = EncodeOnce(texts);
        // Every state owns copies of its rows: it disposes them when it ends, while the rows here (and the cache's) stay.
        static TextConditioning Own(TextConditioning row) => row.Clone().Keep();
        var states = new List<GenerationState>(requests.Count);
        for (int i = 0; i < requests.Count; i++)
        {
            var (spec, plan) = requests[i];
            var conditional = Own(encoded[spec.Prompt]);
            TextConditioning? negative = needsNegative[i] ? Own(encoded[spec.NegativePrompt ?? Model.Profile.DefaultNegativePrompt]) : null;
            var noise = Model.Noise(spec.Seed, spec.Width, spec.Height).DetachFromDisposeScope();
            var truncations = Model.Truncations("prompt", spec.Prompt);
            if (needsNegative[i]) truncations = [.. truncations, .. Model.Truncations("negative_prompt", spec.NegativePrompt ?? Model.Profile.DefaultNegativePrompt)];
            states.Add(new TorchGenerationState(this, spec, plan.Steps(), noise, conditional, negative, guidance[i]) { Truncations = truncations });
        }
        TorchRuntime.Synchronize(Model.Device);
        return states;
    }

    /// <summary>
    /// One row per distinct text, in the current dispose scope: from the prompt cache where it has the text, the others
    /// encoded in one batch and cached. With every text cached, the text encoders do not run.
    /// </summary>
    Dictionary<string, TextConditioning> EncodeOnce(IReadOnlyList<string> texts)
    {
        var rows = new Dictionary<string, TextConditioning>(StringComparer.Ordinal);
        var misses = new List<string>();
        foreach (string text in texts.Distinct(StringComparer.Ordinal))
        {
            if (_promptCache is not null && _promptCache.TryGet(text, out var cached)) rows[text] = cached;
            else misses.Add(text);
        }
        if (misses.Count == 0) return rows;

        var batch = Model.EncodeText(misses);
        TextEncoderBatches++;
        TextsEncoded += misses.Count;
        for (int i = 0; i < misses.Count; i++)
        {
            var row = batch.Row(i);
            rows[misses[i]] = row;
            _promptCache?.Add(misses[i], row);
        }
        return rows;
    }

    public void RunStep(IReadOnlyList<GenerationState> batch)
    {
        // Rows grouped by adapter (a stable sort; every row is computed independently), so that layers with cached
        // merged weights run one matmul per adapter group rather than one per alternation of Slow and Fast.
        List<TorchGenerationState> states = [.. Own(batch).OrderBy(s => s.NextStep?.Adapter ?? "", StringComparer.Ordinal)];
        if (states.Count == 0) return;
        var (width, height) = (states[0].Spec.Width, states[0].Spec.Height);
        foreach (var s in states)
        {
            if (s.IsDenoised) throw new InvalidOperationException("A denoised request cannot take another step.");
            if (s.Spec.Width != width || s.Spec.Height != height)
                throw new ArgumentException($"A step batch must share one resolution; received {width}x{height} and {s.Spec.Width}x{s.Spec.Height}.", nameof(batch));
        }
        PrepareAdapters(states.Select(s => s.NextStep!.Adapter));

        using var scope = NewDisposeScope();
        using var mode = inference_mode();
        var cfgRows = states.Select((s, i) => (s, i)).Where(x => x.s.Negative is not null).Select(x => x.i).ToArray();

        // Rows: every sample's conditional row, then the negative rows of the samples that run true CFG.
        var rowStates = states.Concat(cfgRows.Select(i => states[i])).ToArray();
        var latents = stack(states.Select(s => s.Latents).ToArray());
        var rowLatents = cfgRows.Length == 0 ? latents : cat([latents, latents.index_select(0, Indices(cfgRows))]);
        var rowSigmas = tensor(rowStates.Select(s => (float)s.NextStep!.Sigma).ToArray(), device: Model.Device);
        var text = TextConditioning.Concat(states.Select(s => s.Conditional).Concat(cfgRows.Select(i => states[i].Negative!)).ToArray());
        Tensor? distilledGuidance = Model.Profile.DistilledGuidance
            ? tensor(rowStates.Select(s => (float)s.GuidanceScale).ToArray(), device: Model.Device)
            : null;

        Tensor velocity;
        using (Model.Routing.Route(rowStates.Select(s => s.NextStep!.Adapter).ToArray(), Model.Device))
        {
            velocity = Model.PredictVelocity(rowLatents, rowSigmas, text, width, height, distilledGuidance);
        }

        var combined = velocity.narrow(0, 0, states.Count);
        if (cfgRows.Length > 0)
        {
            var index = Indices(cfgRows);
            var scales = tensor(cfgRows.Select(i => (float)states[i].GuidanceScale).ToArray(), device: Model.Device);
            var guided = Guidance.Combine(combined.index_select(0, index), velocity.narrow(0, states.Count, cfgRows.Length), scales, Model.Profile.Guidance.NormRescale);
            combined = combined.index_copy(0, index, guided);
        }

        var sigmas = tensor(states.Select(s => (float)s.NextStep!.Sigma).ToArray(), device: Model.Device);
        var nextSigmas = tensor(states.Select(s => (float)s.NextStep!.NextSigma).ToArray(), device: Model.Device);
        var next = EulerStep.Apply(latents, combined, sigmas, nextSigmas);
        // Every row's copy is made before any state changes: a step that fails (out of memory included) leaves every
        // state as it was, so that the batch can be run again, whole or split.
        Tensor[] advanced = [.. Enumerable.Range(0, states.Count).Select(i => next[i].clone())];
        for (int i = 0; i < states.Count; i++)
        {
            states[i].ReplaceLatents(advanced[i].DetachFromDisposeScope());
            states[i].MarkStepDone();
        }
        TorchRuntime.Synchronize(Model.Device);
    }

    public IReadOnlyList<DecodedImage> Decode(IReadOnlyList<GenerationState> denoised)
    {
        var states = Own(denoised);
        foreach (var state in states)
        {
            if (!state.IsDenoised)
                throw new InvalidOperationException($"The request has run {state.StepIndex} of {state.Plan.Count} steps; it cannot be decoded yet.");
        }

        // One autoencoder batch per resolution, so that a mixed list still works.
        var decoded = new DecodedImage[states.Count];
        foreach (var group in states.Select((s, i) => (s, i)).GroupBy(x => (x.s.Spec.Width, x.s.Spec.Height)))
        {
            using var scope = NewDisposeScope();
            using var mode = inference_mode();
            var members = group.ToArray();
            var rgb = Model.DecodeToRgb(stack(members.Select(m => m.s.Latents).ToArray()), group.Key.Width, group.Key.Height);
            for (int k = 0; k < members.Length; k++)
                decoded[members[k].i] = new DecodedImage(group.Key.Width, group.Key.Height, rgb[k].data<byte>().ToArray());
        }
        return decoded;
    }

    Tensor Indices(int[] rows) => tensor(rows.Select(r => (long)r).ToArray(), device: Model.Device);

    void CheckPlanAdapters(SamplingPlan plan)
    {
        foreach (var phase in plan.Phases)
        {
            if (phase.Adapter is { } adapter && !Model.Adapters.Contains(adapter))
                throw new InvalidOperationException($"Phase '{phase.Name}' needs adapter '{adapter}', which model '{Model.Profile.Name}' does not have (attached: {(Model.Adapters.Count == 0 ? "none" : string.Join(", ", Model.Adapters))}).");
        }
    }

    List<TorchGenerationState> Own(IReadOnlyList<GenerationState> states)
    {
        ArgumentNullException.ThrowIfNull(states);
        var own = new List<TorchGenerationState>(states.Count);
        foreach (var state in states)
        {
            if (state is not TorchGenerationState mine || !ReferenceEquals(mine.Owner, this))
                throw new ArgumentException("Every state must have been started by this engine.", nameof(states));
            own.Add(mine);
        }
        return own;
    }

    public void Dispose()
    {
        _promptCache?.Dispose();
        if (_ownsModel) Model.Dispose();
    }
}
