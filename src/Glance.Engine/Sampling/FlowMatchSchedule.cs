namespace Glance.Engine.Sampling;

/// <summary>
/// Shape of a flow-matching sigma schedule (diffusers FlowMatchEulerDiscreteScheduler semantics).
/// </summary>
/// <param name="DynamicShift">Shift from the image token count (exponential, mu = m * seq + b) instead of a fixed shift.</param>
/// <param name="FixedShift">Static shift k when <paramref name="DynamicShift"/> is off (1 = unshifted).</param>
/// <param name="TerminalSigma">When set, the schedule is stretched so that its last sigma equals this value.</param>
public sealed record FlowMatchScheduleConfig(
    bool DynamicShift,
    double BaseShift = 0.5,
    double MaxShift = 1.15,
    int BaseSeqLen = 256,
    int MaxSeqLen = 4096,
    double FixedShift = 1.0,
    double? TerminalSigma = null)
{
    public FlowMatchScheduleConfig Validate()
    {
        if (DynamicShift && MaxSeqLen <= BaseSeqLen)
            throw new ArgumentException($"MaxSeqLen must exceed BaseSeqLen for dynamic shifting; received {MaxSeqLen} <= {BaseSeqLen}.");
        if (!DynamicShift && FixedShift <= 0)
            throw new ArgumentException($"FixedShift must be positive; received {FixedShift}.");
        if (TerminalSigma is { } t && (t <= 0 || t >= 1))
            throw new ArgumentException($"TerminalSigma must lie in (0, 1); received {t}.");
        return this;
    }
}

/// <summary>Pure functions computing flow-matching sigma schedules.</summary>
public static class FlowMatchSchedule
{
    /// <summary>
    /// The N sigmas at which a model is evaluated, from 1 down (0 is not included): linspace(1, 1/N, N),
    /// shifted, then optionally stretched to the terminal sigma.
    /// </summary>
    /// <param name="imageSeqLen">Packed image tokens, used by dynamic shifting.</param>
    public static double[] Sigmas(int steps, FlowMatchScheduleConfig config, int imageSeqLen)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "expected at least 1 step");

        var sigmas = new double[steps];
        for (int i = 0; i < steps; i++)
            sigmas[i] = steps == 1 ? 1.0 : 1.0 + (1.0 / steps - 1.0) * i / (steps - 1);

        if (config.DynamicShift)
        {
            double mu = Mu(imageSeqLen, config);
            for (int i = 0; i < steps; i++) sigmas[i] = ExponentialShift(mu, sigmas[i]);
        }
        else if (config.FixedShift != 1.0)
        {
            for (int i = 0; i < steps; i++) sigmas[i] = StaticShift(config.FixedShift, sigmas[i]);
        }

        if (config.TerminalSigma is { } terminal) StretchToTerminal(sigmas, terminal);
        return sigmas;
    }

    /// <summary>Linear interpolation of the shift exponent in the image token count.</summary>
    public static double Mu(int imageSeqLen, FlowMatchScheduleConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        double m = (config.MaxShift - config.BaseShift) / (config.MaxSeqLen - config.BaseSeqLen);
        double b = config.BaseShift - m * config.BaseSeqLen;
        return m * imageSeqLen + b;
    }

    public static double ExponentialShift(double mu, double sigma) =>
        Math.Exp(mu) / (Math.Exp(mu) + (1.0 / sigma - 1.0));

    public static double StaticShift(double shift, double sigma) =>
        shift * sigma / (1.0 + (shift - 1.0) * sigma);

    /// <summary>Rescales 1 - sigma so that the last sigma becomes <paramref name="terminal"/>.</summary>
    public static void StretchToTerminal(double[] sigmas, double terminal)
    {
        ArgumentNullException.ThrowIfNull(sigmas);
        double scale = (1.0 - sigmas[^1]) / (1.0 - terminal);
        for (int i = 0; i < sigmas.Length; i++) sigmas[i] = 1.0 - (1.0 - sigmas[i]) / scale;
    }
}
