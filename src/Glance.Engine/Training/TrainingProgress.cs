using System.Diagnostics;
using System.Globalization;

namespace Glance.Engine.Training;

/// <summary>
/// Progress of one training stage: a redrawn bar on an interactive terminal, and a plain line with the mean
/// loss and the estimated time left every <c>reportEvery</c> (always, so that logs of piped runs show it).
/// </summary>
public sealed class TrainingProgress
{
    readonly string _stage;
    readonly int _totalSteps;
    readonly TextWriter _output;
    readonly TimeSpan _reportEvery;
    readonly bool _interactive;
    readonly Stopwatch _clock = Stopwatch.StartNew();
    TimeSpan _lastReport;
    double _lossSum;
    int _lossCount;

    public TrainingProgress(string stage, int totalSteps, TextWriter output, TimeSpan reportEvery)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1);
        _stage = stage;
        _totalSteps = totalSteps;
        _output = output;
        _reportEvery = reportEvery;
        _interactive = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
    }

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Mean loss over the whole stage so far.</summary>
    public IList<(int Step, double MeanLoss)> History { get; } = [];

    public void Report(int step, double loss)
    {
        _lossSum += loss;
        _lossCount++;
        if (_interactive) _output.Write("\r" + Bar(step, loss));
        bool last = step == _totalSteps;
        if (last) _clock.Stop(); // the stage's time, not the time until someone reads it
        if (_clock.Elapsed - _lastReport >= _reportEvery || last)
        {
            double mean = _lossSum / _lossCount;
            History.Add((step, mean));
            _lossSum = 0;
            _lossCount = 0;
            _lastReport = _clock.Elapsed;
            if (_interactive) _output.WriteLine();
            _output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{_stage}] step {step}/{_totalSteps} loss {mean:F5} elapsed {Format(_clock.Elapsed)} eta {Format(Eta(step))}"));
        }
    }

    TimeSpan Eta(int step) => step == 0 ? TimeSpan.Zero : _clock.Elapsed / step * (_totalSteps - step);

    string Bar(int step, double loss)
    {
        const int width = 30;
        int filled = (int)((long)width * step / _totalSteps);
        return string.Create(CultureInfo.InvariantCulture,
            $"[{_stage}] [{new string('#', filled)}{new string('.', width - filled)}] {step}/{_totalSteps} loss {loss:F4} eta {Format(Eta(step))}");
    }

    static string Format(TimeSpan t) => t.ToString(t.TotalHours >= 1 ? @"h\:mm\:ss" : @"mm\:ss", CultureInfo.InvariantCulture);
}
