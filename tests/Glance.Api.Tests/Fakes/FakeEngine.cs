using System.Collections.Concurrent;
using Glance.Engine.Serving;

namespace Glance.Api.Tests.Fakes;

/// <summary>One engine call as the fake saw it.</summary>
/// <param name="Requests">Per state in the call: its seed, prompt, and the phase of the step it ran (steps only).</param>
public sealed record RecordedCall(string Operation, int ThreadId, IReadOnlyList<RecordedRequest> Requests);

public sealed record RecordedRequest(long Seed, string Prompt, int StepIndex, string? Phase);

/// <summary>
/// A controllable engine: plans of configurable length, millisecond steps, deterministic images from the seed,
/// failure injection by prompt, gates that hold steps and warm-up, and a record of every call and the thread it came from.
/// </summary>
public sealed class FakeEngine : IGlanceEngine
{
    /// <summary>A prompt containing this makes every step of its batch throw.</summary>
    public const string FailOnStep = "fail-on-step";

    readonly ConcurrentQueue<RecordedCall> calls = new();
    readonly ConcurrentDictionary<long, int> stepsEnteredBySeed = new();
    readonly object gate = new();
    int allowedSteps = int.MaxValue;
    bool warmUpHeld;
    bool warmUpEntered;
    int liveStates;
    int stepsEntered;

    public EngineDescription Description { get; init; } = new(
        ModelName: "fake-flux", Device: "cpu", DType: "float32",
        DefaultWidth: 32, DefaultHeight: 32, MinSize: 32, MaxSize: 256, SizeMultiple: 16,
        DefaultGuidance: 3.5, MaxGuidance: 20, DefaultBaseSteps: 4, MaxBaseSteps: 50, MaxPromptLength: 200,
        Adapters: ["slow", "fast"]);

    /// <summary>The adapter sets the fake reports as attached (none unless a test sets them).</summary>
    public IReadOnlyList<AdapterSetInfo> AdapterSets { get; init; } = [];

    /// <summary>The most requests a step (or decode) can hold before it fails as libtorch does when device memory runs out; null: no limit.</summary>
    public int? StepMemoryLimit { get; init; }

    public int? DecodeMemoryLimit { get; init; }

    public int SlowSteps { get; init; } = 2;
    public int FastSteps { get; init; } = 3;
    public TimeSpan StepDelay { get; init; } = TimeSpan.FromMilliseconds(2);
    public TimeSpan WarmUpDelay { get; init; } = TimeSpan.Zero;

    /// <summary>When set, each generation step advances it by <see cref="StepCost"/> and each training step by <see cref="TrainStepCost"/>.</summary>
    public SteppedTimestamps? Clock { get; init; }
    public TimeSpan StepCost { get; init; } = TimeSpan.FromMilliseconds(10);
    public TimeSpan TrainStepCost { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Whether training steps also wait while the gate is closed (<see cref="CloseGate"/>), as generation steps do.</summary>
    public bool GateTraining { get; init; }

    public IReadOnlyList<RecordedCall> Calls => [.. calls];
    public IReadOnlyList<RecordedCall> Steps => [.. calls.Where(call => call.Operation == "step")];
    public int LiveStates => Volatile.Read(ref liveStates);

    /// <summary>Steps begun so far, counted before the gate, so a test can see the engine waiting at it.</summary>
    public int StepsEntered
    {
        get
        {
            lock (gate) return stepsEntered;
        }
    }

    /// <summary>Step calls begun so far that included the request with this seed, counted before the gate.</summary>
    public int StepsEnteredFor(long seed) => stepsEnteredBySeed.GetValueOrDefault(seed);

    /// <summary>Whether <see cref="WarmUp"/> has begun (it may be waiting at <see cref="HoldWarmUp"/>).</summary>
    public bool WarmUpEntered
    {
        get
        {
            lock (gate) return warmUpEntered;
        }
    }

    public bool IsDisposed { get; private set; }

    /// <summary>Makes every step not yet begun wait until <see cref="OpenGate"/>.</summary>
    public void CloseGate() => HoldStepsAfter(StepsEntered);

    /// <summary>Lets the first <paramref name="steps"/> step calls run; later ones wait for a higher limit or <see cref="OpenGate"/>.</summary>
    public void HoldStepsAfter(int steps)
    {
        lock (gate)
        {
            allowedSteps = steps;
            Monitor.PulseAll(gate); // A raised limit releases the steps now within it.
        }
    }

    /// <summary>Makes <see cref="WarmUp"/> wait until <see cref="ReleaseWarmUp"/> or <see cref="OpenGate"/>.</summary>
    public void HoldWarmUp()
    {
        lock (gate) warmUpHeld = true;
    }

    public void ReleaseWarmUp()
    {
        lock (gate)
        {
            warmUpHeld = false;
            Monitor.PulseAll(gate);
        }
    }

    /// <summary>Blocks while any step is held (for training steps under <see cref="GateTraining"/>).</summary>
    void WaitForOpenGate()
    {
        lock (gate) WaitWhile(() => allowedSteps != int.MaxValue, "gate stayed closed");
    }

    /// <summary>Waits, holding the gate's lock, while <paramref name="held"/>; ten seconds of it fail the call.</summary>
    void WaitWhile(Func<bool> held, string what)
    {
        while (held())
            if (!Monitor.Wait(gate, TimeSpan.FromSeconds(10))) throw new TimeoutException($"The fake engine's {what} for 10 s.");
    }

    /// <summary>Releases every held step and a held warm-up.</summary>
    public void OpenGate()
    {
        lock (gate)
        {
            allowedSteps = int.MaxValue;
            warmUpHeld = false;
            Monitor.PulseAll(gate);
        }
    }

    public void WarmUp()
    {
        Record("warmup", []);
        lock (gate)
        {
            warmUpEntered = true;
            WaitWhile(() => warmUpHeld, "warm-up stayed held");
        }
        Thread.Sleep(WarmUpDelay);
    }

    public IReadOnlyList<GenerationState> Start(IReadOnlyList<GenerationSpec> specs)
    {
        ArgumentNullException.ThrowIfNull(specs);
        Record("start", [.. specs.Select(spec => new RecordedRequest(spec.Seed, spec.Prompt, 0, null))]);
        return [.. specs.Select(spec => (GenerationState)new FakeState(spec, Plan(spec), this))];
    }

    public void RunStep(IReadOnlyList<GenerationState> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        foreach (GenerationState state in batch)
            stepsEnteredBySeed.AddOrUpdate(state.Spec.Seed, 1, (_, count) => count + 1);
        lock (gate)
        {
            int call = ++stepsEntered;
            WaitWhile(() => call > allowedSteps, "gate stayed closed");
        }
        if (batch.Select(state => (state.Spec.Width, state.Spec.Height)).Distinct().Count() > 1)
            throw new InvalidOperationException("A step mixed resolutions.");
        Record("step", [.. batch.Select(state => new RecordedRequest(state.Spec.Seed, state.Spec.Prompt, state.StepIndex, state.NextStep!.Phase))]);
        Thread.Sleep(StepDelay);
        Clock?.Advance(StepCost);
        if (batch.Any(state => state.Spec.Prompt.Contains(FailOnStep, StringComparison.Ordinal)))
            throw new InvalidOperationException("Injected step failure.");
        ThrowWhenOverMemory(batch.Count, StepMemoryLimit);
        foreach (FakeState state in batch.Cast<FakeState>()) state.Step();
    }

    public IReadOnlyList<DecodedImage> Decode(IReadOnlyList<GenerationState> denoised)
    {
        ArgumentNullException.ThrowIfNull(denoised);
        Record("decode", [.. denoised.Select(state => new RecordedRequest(state.Spec.Seed, state.Spec.Prompt, state.StepIndex, null))]);
        if (denoised.Any(state => !state.IsDenoised)) throw new InvalidOperationException("Decode got a state that is not denoised.");
        ThrowWhenOverMemory(denoised.Count, DecodeMemoryLimit);
        return [.. denoised.Select(state => Image(state.Spec))];
    }

    /// <summary>The error TorchSharp surfaces when the CUDA caching allocator cannot serve an allocation.</summary>
    static void ThrowWhenOverMemory(int requests, int? limit)
    {
        if (requests > limit)
#pragma warning disable CA2201 // TorchSharp rethrows every libtorch error as ExternalException; the fake throws what the engine would.
            throw new System.Runtime.InteropServices.ExternalException(
                $"CUDA out of memory. Tried to allocate {requests} GiB. GPU 0 has a total capacity of {limit} GiB of which 0 bytes is free.");
#pragma warning restore CA2201
    }

    /// <summary>The image the fake makes for a spec: a pattern that depends on the seed.</summary>
    public static DecodedImage Image(GenerationSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var rgb = new byte[spec.Width * spec.Height * 3];
        for (int i = 0; i < rgb.Length; i++)
            rgb[i] = (byte)((spec.Seed * 31) + (i * 7) + (i / (spec.Width * 3) * 13));
        return new DecodedImage(spec.Width, spec.Height, rgb);
    }

    /// <summary>A training run that records each step as a "train" call and saves empty files.</summary>
    public IAdapterTrainingRun StartTraining(AdapterTrainingSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Record("train-start", []);
        return new FakeTrainingRun(this, spec);
    }

    sealed class FakeTrainingRun(FakeEngine engine, AdapterTrainingSpec spec) : IAdapterTrainingRun
    {
        public AdapterTrainingSettings Settings { get; } = new(spec.Steps ?? 60, spec.Rank ?? 16, 4.0 * (spec.Rank ?? 16), spec.LearningRate ?? 5e-4, spec.Targets ?? "attention", spec.Image.Width, spec.Image.Height);

        public int TotalSteps => Settings.StepsPerPhase * spec.Phases.Count;

        public int StepsDone { get; private set; }

        public string Phase => spec.Phases[Math.Min(StepsDone / Settings.StepsPerPhase, spec.Phases.Count - 1)];

        public bool IsDone => StepsDone >= TotalSteps;

        public double TrainStep()
        {
            if (engine.GateTraining) engine.WaitForOpenGate();
            engine.Record("train", []);
            Thread.Sleep(engine.StepDelay);
            engine.Clock?.Advance(engine.TrainStepCost);
            StepsDone++;
            return 1.0 / StepsDone;
        }

        public IReadOnlyDictionary<string, string> Save(string folder)
        {
            Directory.CreateDirectory(folder);
            return spec.Phases.ToDictionary(phase => phase, phase =>
            {
                string path = Path.Combine(folder, phase + ".safetensors");
                File.WriteAllBytes(path, []);
                return path;
            }, StringComparer.Ordinal);
        }

        public void Dispose()
        {
        }
    }

    public void Dispose()
    {
        IsDisposed = true;
        OpenGate();
    }

    IReadOnlyList<PlannedStep> Plan(GenerationSpec spec)
    {
        if (spec.Mode == SamplingMode.Base)
        {
            int steps = spec.Steps ?? Description.DefaultBaseSteps;
            return [.. Enumerable.Range(0, steps).Select(i => new PlannedStep("base", null, 1.0 - ((double)i / steps), 1.0 - ((double)(i + 1) / steps)))];
        }
        int total = SlowSteps + FastSteps;
        return [.. Enumerable.Range(0, total).Select(i => new PlannedStep(
            i < SlowSteps ? "slow" : "fast", i < SlowSteps ? "slow" : "fast", 1.0 - ((double)i / total), 1.0 - ((double)(i + 1) / total)))];
    }

    void Record(string operation, IReadOnlyList<RecordedRequest> requests) =>
        calls.Enqueue(new RecordedCall(operation, Environment.CurrentManagedThreadId, requests));

    sealed class FakeState : GenerationState
    {
        readonly FakeEngine engine;

        public FakeState(GenerationSpec spec, IReadOnlyList<PlannedStep> plan, FakeEngine engine)
            : base(spec, plan)
        {
            this.engine = engine;
            Interlocked.Increment(ref engine.liveStates);
        }

        public void Step() => Advance();

        protected override void Dispose(bool disposing)
        {
            Interlocked.Decrement(ref engine.liveStates);
            base.Dispose(disposing);
        }
    }
}
