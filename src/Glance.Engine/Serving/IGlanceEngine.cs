namespace Glance.Engine.Serving;

/// <summary>
/// Step-level engine API. A scheduler calls it from ONE thread (the engine's owner): it starts requests
/// (batched text encoding and seeded noise), runs single denoising steps over any mix of started requests
/// (each at its own sigma with its own adapter), and decodes finished ones. Tensor work happens inside
/// these calls only.
/// </summary>
public interface IGlanceEngine : IDisposable
{
    EngineDescription Description { get; }

    /// <summary>Hit and miss counts of the engine's prompt-encoding cache; null when it has none (or it is off).</summary>
    PromptCacheCounters? PromptCache => null;

    /// <summary>Runs one small generation so that the first real request does not pay for lazy initialisation.</summary>
    void WarmUp();

    /// <summary>Encodes prompts in one batch and draws each request's initial noise from its seed alone.</summary>
    IReadOnlyList<GenerationState> Start(IReadOnlyList<GenerationSpec> specs);

    /// <summary>
    /// Runs one denoising step for every state in the batch, each at its own next planned step, then advances
    /// them. All states must share one resolution and be started by this engine and not yet denoised. All or nothing:
    /// when it throws, no state has advanced (the worker retries a batch that ran out of memory in halves).
    /// </summary>
    void RunStep(IReadOnlyList<GenerationState> batch);

    /// <summary>The adapter sets attached to the model, the default set included when it has an adapter.</summary>
    IReadOnlyList<AdapterSetInfo> AdapterSets => [];

    /// <summary>
    /// Attaches (or replaces) a set's files under its name; every key of each file must land on a module of the model,
    /// else nothing is attached and the error names the key. Called between steps, like every engine call.
    /// </summary>
    void AttachAdapterSet(AdapterSetFiles files) => throw new NotSupportedException("This engine does not take adapter sets.");

    /// <summary>
    /// Checks that a set's files would attach (every key on a module of the right shape) without attaching them; throws
    /// naming the key and the problem otherwise.
    /// </summary>
    void CheckAdapterSet(AdapterSetFiles files) => throw new NotSupportedException("This engine does not take adapter sets.");

    /// <summary>Detaches a set (its requests must have finished); false when it was not attached.</summary>
    bool DetachAdapterSet(string name) => false;

    /// <summary>
    /// Starts training an adapter set on the loaded model (nothing runs until the caller steps it, between generation
    /// steps). Throws naming the problem when the spec does not fit the model (size, phase, targets).
    /// </summary>
    IAdapterTrainingRun StartTraining(AdapterTrainingSpec spec) => throw new NotSupportedException("This engine does not train adapters.");

    /// <summary>Decodes denoised states in one batch to RGB images (PNG encoding is left to the caller).</summary>
    IReadOnlyList<DecodedImage> Decode(IReadOnlyList<GenerationState> denoised);
}
