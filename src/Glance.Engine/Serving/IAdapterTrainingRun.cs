namespace Glance.Engine.Serving;

/// <summary>
/// A training run on the serving model, one optimizer step at a time, so that the engine's owner can interleave its
/// steps with generation steps. Its adapters are invisible to generation (no request routes to them). Disposing the
/// run detaches them and frees its tensors; call it on the engine's thread, like every engine call.
/// </summary>
public interface IAdapterTrainingRun : IDisposable
{
    AdapterTrainingSettings Settings { get; }

    /// <summary>Steps over all phases.</summary>
    int TotalSteps { get; }

    int StepsDone { get; }

    /// <summary>The phase the next step trains (the last one once done).</summary>
    string Phase { get; }

    bool IsDone { get; }

    /// <summary>Runs one optimizer step and returns its loss.</summary>
    double TrainStep();

    /// <summary>Writes each trained phase as folder/PHASE.safetensors (PEFT layout, alpha in the header); returns the paths by phase.</summary>
    IReadOnlyDictionary<string, string> Save(string folder);
}
