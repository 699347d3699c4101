using Glance.Engine.Imaging;
using Glance.Engine.Lora;
using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;
using Glance.Engine.Sampling;
using Glance.Engine.Serving;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Training;

/// <summary>
/// The Glance recipe on one image-caption pair, one optimizer step per <see cref="TrainStep"/>, phase after phase:
/// x_t = (1 - s) x0 + s noise with s drawn uniformly from the phase's five plan sigmas, target velocity noise - x0,
/// plain MSE, AdamW at a constant rate, gradient clipping 1.0; the base weights stay frozen. Every random draw comes
/// from the run's own seeded generators, so generation steps run between its steps change nothing in the result.
/// </summary>
public sealed class LoraTrainingRun : IAdapterTrainingRun
{
    readonly DiffusionModel _model;
    readonly IReadOnlyList<LoraTrainingOptions> _phases;
    readonly Func<string, string> _adapterName;
    readonly Tensor _x0;
    readonly TextConditioning _caption;
    readonly TextConditioning _empty;
    readonly int _width;
    readonly int _height;
    readonly List<string> _created = [];
    int _phaseIndex = -1;
    int _phaseStep;
    IReadOnlyList<double> _sigmas = [];
    IReadOnlyList<TorchSharp.Modules.Parameter> _trainable = [];
    optim.Optimizer? _optimizer;
    Random _pick = new(0);
    Generator? _noise;
    bool _keepAdapters;
    bool _disposed;

    /// <param name="phases">One options record per phase, trained in this order.</param>
    /// <param name="adapterName">The name each phase's adapter carries on the model while the run lives.</param>
    public LoraTrainingRun(DiffusionModel model, DecodedImage image, string caption, IReadOnlyList<LoraTrainingOptions> phases, Func<string, string> adapterName)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(caption);
        ArgumentNullException.ThrowIfNull(phases);
        ArgumentNullException.ThrowIfNull(adapterName);
        if (phases.Count == 0) throw new ArgumentException("A training run needs at least one phase; received none.", nameof(phases));
        foreach (var phase in phases)
        {
            if (phase.Steps < 1) throw new ArgumentOutOfRangeException(nameof(phases), phase.Steps, $"Phase '{phase.Phase}' has {phase.Steps} steps; expected at least 1.");
            _ = PhaseSigmas(model, phase.Phase, image.Width, image.Height); // an unknown phase or a bad size fails here, before any tensor
        }
        _model = model;
        _phases = phases;
        _adapterName = adapterName;
        (_width, _height) = (image.Width, image.Height);
        var first = phases[0];
        var targets = first.Targets ?? model.AdapterTargets(model.TrainingRecipe.Targets);
        Settings = new AdapterTrainingSettings(first.Steps, first.Rank, first.Alpha, first.LearningRate,
            TargetSetName(model, targets), image.Width, image.Height);
        TotalSteps = phases.Sum(p => p.Steps);
        try
        {
            _x0 = EncodeImage(model, image);
            _caption = EncodeFrozen(model, caption);
            _empty = EncodeFrozen(model, "");
        }
        catch
        {
            _x0?.Dispose();
            _caption?.Dispose();
            throw;
        }
    }

    /// <summary>Phase sigmas of the Glance plan at this resolution: the only timesteps an adapter trains on.</summary>
    public static IReadOnlyList<double> PhaseSigmas(DiffusionModel model, string phase, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(model);
        _ = model.LatentSize(width, height);
        var plan = PlanBuilder.Glance(model.Profile.Schedule, model.ImageSeqLen(width, height));
        return plan.Phases.FirstOrDefault(p => p.Name == phase)?.Sigmas
            ?? throw new ArgumentException($"Unknown phase '{phase}'; expected {PlanBuilder.SlowPhase} or {PlanBuilder.FastPhase}.", nameof(phase));
    }

    public AdapterTrainingSettings Settings { get; }

    public int TotalSteps { get; }

    public int StepsDone { get; private set; }

    public string Phase
    {
        get
        {
            int next = _phaseIndex < 0 ? 0 : _phaseStep >= CurrentSteps ? _phaseIndex + 1 : _phaseIndex;
            return _phases[Math.Min(next, _phases.Count - 1)].Phase;
        }
    }

    public bool IsDone => StepsDone >= TotalSteps;

    int CurrentSteps => _phaseIndex < 0 ? 0 : _phases[_phaseIndex].Steps;

    public double TrainStep()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsDone) throw new InvalidOperationException($"The run has done all its {TotalSteps} steps.");
        if (_phaseIndex < 0 || _phaseStep >= CurrentSteps) BeginNextPhase();
        var options = _phases[_phaseIndex];
        string adapter = _adapterName(options.Phase);

        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        double s = _sigmas[_pick.Next(_sigmas.Count)];
        var text = _pick.NextDouble() < options.CaptionDropout ? _empty : _caption;
        var noise = randn(_x0.shape, dtype: ScalarType.Float32, device: CPU, generator: _noise).to(_model.Device);
        var xt = _x0.Times(1 - s).Plus(noise.Times(s));
        var sigma = tensor(new[] { (float)s }, device: _model.Device);
        // FLUX.1-dev's recipe feeds the distilled guidance embedding 1 while training.
        Tensor? guidance = _model.Profile.DistilledGuidance ? tensor(new[] { (float)_model.TrainingRecipe.TrainingGuidance }, device: _model.Device) : null;
        Tensor velocity;
        _model.Denoiser.train();
        try
        {
            using (_model.Routing.Route([adapter], _model.Device))
                velocity = _model.PredictVelocity(xt, sigma, text, _width, _height, guidance);
        }
        finally
        {
            _model.Denoiser.eval();
        }
        var loss = nn.functional.mse_loss(velocity, noise.sub(_x0));
        _optimizer!.zero_grad();
        loss.backward();
        nn.utils.clip_grad_norm_(_trainable, 1.0);
        _optimizer.step();
        _phaseStep++;
        StepsDone++;
        if (_phaseStep >= options.Steps) EndPhase();
        return loss.item<float>();
    }

    void BeginNextPhase()
    {
        _phaseIndex++;
        _phaseStep = 0;
        var options = _phases[_phaseIndex];
        string adapter = _adapterName(options.Phase);
        _sigmas = PhaseSigmas(_model, options.Phase, _width, _height);
        _trainable = _model.AddTrainableAdapter(adapter, options.Targets ?? _model.AdapterTargets(_model.TrainingRecipe.Targets), options.Rank, options.Alpha, options.Seed);
        _created.Add(adapter);
        _optimizer = optim.AdamW(_trainable, lr: options.LearningRate, weight_decay: options.WeightDecay);
        _pick = new Random(unchecked((int)options.Seed));
        _noise?.Dispose();
        _noise = new Generator(unchecked((ulong)options.Seed), CPU);
    }

    void EndPhase()
    {
        foreach (var p in _trainable) p.requires_grad = false;
        _optimizer?.Dispose();
        _optimizer = null;
    }

    public IReadOnlyDictionary<string, string> Save(string folder)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!IsDone) throw new InvalidOperationException($"The run has done {StepsDone} of its {TotalSteps} steps; save it once it is done.");
        Directory.CreateDirectory(folder);
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var options in _phases)
        {
            string path = Path.Combine(folder, options.Phase + ".safetensors");
            LoraFile.WritePeft(_model.Denoiser, _adapterName(options.Phase), path);
            paths[options.Phase] = path;
        }
        return paths;
    }

    /// <summary>Leaves the trained adapters attached to the model when the run is disposed (the CLI saves them itself).</summary>
    public void KeepAdapters() => _keepAdapters = true;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _optimizer?.Dispose();
        _noise?.Dispose();
        _x0.Dispose();
        _caption.Dispose();
        _empty.Dispose();
        if (!_keepAdapters)
        {
            foreach (string adapter in _created) _model.DetachAdapter(adapter);
        }
    }

    static string TargetSetName(DiffusionModel model, IReadOnlyList<string> targets)
    {
        foreach (string name in LoraTargetSets.Names)
        {
            if (model.AdapterTargets(name).SequenceEqual(targets, StringComparer.Ordinal)) return name;
        }
        return $"{targets.Count} modules";
    }

    static Tensor EncodeImage(DiffusionModel model, DecodedImage image)
    {
        using var scope = NewDisposeScope();
        using var mode = no_grad();
        var pixels = tensor(PixelArrays.ToSignedUnitChw(image), [1, 3, image.Height, image.Width]);
        return model.EncodeToLatents(pixels).DetachFromDisposeScope();
    }

    static TextConditioning EncodeFrozen(DiffusionModel model, string prompt)
    {
        using var scope = NewDisposeScope();
        using var mode = no_grad();
        return model.EncodeText([prompt]).Keep();
    }
}
