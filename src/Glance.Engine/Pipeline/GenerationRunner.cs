using System.Diagnostics;
using Glance.Engine.Imaging;
using Glance.Engine.Serving;

namespace Glance.Engine.Pipeline;

/// <summary>A finished image with the wall time of each stage: encode, one entry per phase, decode, png.</summary>
public sealed record GenerationResult(DecodedImage Image, byte[] Png, IReadOnlyList<KeyValuePair<string, TimeSpan>> Timings)
{
    public TimeSpan Total => Timings.Aggregate(TimeSpan.Zero, (sum, t) => sum + t.Value);
}

/// <summary>Whole generations (prompt to PNG) on the step-level engine API, one request at a time.</summary>
public static class GenerationRunner
{
    public const string EncodeStage = "encode";
    public const string DecodeStage = "decode";
    public const string PngStage = "png";

    public static GenerationResult Generate(IGlanceEngine engine, GenerationSpec spec) =>
        Run(engine, () => engine.Start([spec]));

    /// <summary>Runs an already-planned request to completion (the engine's Start call is supplied).</summary>
    public static GenerationResult Run(IGlanceEngine engine, Func<IReadOnlyList<GenerationState>> start)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(start);
        var timings = new List<KeyValuePair<string, TimeSpan>>();
        var clock = Stopwatch.StartNew();
        var state = start().Single();
        try
        {
            timings.Add(new(EncodeStage, clock.Elapsed));
            while (!state.IsDenoised)
            {
                string phase = state.NextStep!.Phase;
                clock.Restart();
                engine.RunStep([state]);
                Add(timings, phase, clock.Elapsed);
            }
            clock.Restart();
            var image = engine.Decode([state])[0];
            timings.Add(new(DecodeStage, clock.Elapsed));
            clock.Restart();
            byte[] png = PngEncoding.Encode(image);
            timings.Add(new(PngStage, clock.Elapsed));
            return new GenerationResult(image, png, timings);
        }
        finally
        {
            state.Dispose();
        }
    }

    static void Add(List<KeyValuePair<string, TimeSpan>> timings, string stage, TimeSpan elapsed)
    {
        int at = timings.FindIndex(t => t.Key == stage);
        if (at < 0) timings.Add(new(stage, elapsed));
        else timings[at] = new(stage, timings[at].Value + elapsed);
    }
}
