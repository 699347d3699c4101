using Glance.Engine.Checkpoints;

namespace Glance.Engine.Sampling;

/// <summary>A <see cref="FlowMatchScheduleConfig"/> from diffusers' scheduler/scheduler_config.json (FlowMatchEulerDiscreteScheduler).</summary>
public static class SchedulerConfigFile
{
    /// <summary>
    /// Reads the fields the schedule depends on, with the scheduler class's defaults for absent ones; options that would
    /// change the sigmas in ways this sampler does not reproduce (Karras, exponential or beta sigmas, inverted sigmas,
    /// linear time shift, stochastic sampling) fail naming the field. With dynamic shifting the fixed shift is unused.
    /// </summary>
    public static FlowMatchScheduleConfig FromDiffusers(string configPath)
    {
        var file = JsonConfigFile.Read(configPath);
        string? className = file.Text("_class_name", null);
        if (className is not (null or "FlowMatchEulerDiscreteScheduler"))
            throw file.Unsupported("_class_name", className, "supported: \"FlowMatchEulerDiscreteScheduler\"");
        foreach (string flag in new[] { "use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas", "invert_sigmas", "stochastic_sampling" })
        {
            if (file.Bool(flag, false)) throw file.Unsupported(flag, true, "supported: false (the linear-in-sigma flow-matching schedule)");
        }
        string? timeShift = file.Text("time_shift_type", "exponential");
        if (timeShift != "exponential") throw file.Unsupported("time_shift_type", timeShift, "supported: \"exponential\"");
        int trainSteps = file.Whole("num_train_timesteps", 1000);
        if (trainSteps != 1000) throw file.Unsupported("num_train_timesteps", trainSteps, "supported: 1000");

        var config = new FlowMatchScheduleConfig(
            DynamicShift: file.Bool("use_dynamic_shifting", false),
            BaseShift: file.Number("base_shift", 0.5),
            MaxShift: file.Number("max_shift", 1.15),
            BaseSeqLen: file.Whole("base_image_seq_len", 256),
            MaxSeqLen: file.Whole("max_image_seq_len", 4096),
            FixedShift: file.Number("shift", 1.0),
            TerminalSigma: file.OptionalNumber("shift_terminal"));
        try
        {
            return config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{configPath}' describes a schedule this sampler cannot run: {e.Message}", e);
        }
    }
}
