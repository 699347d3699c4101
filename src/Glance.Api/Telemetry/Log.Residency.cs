namespace Glance.Api.Telemetry;

/// <summary>Adapter residency's log events (ids 170-179).</summary>
internal static partial class Log
{
    [LoggerMessage(170, LogLevel.Warning, "A step needed {NeededMiB:F1} MiB of adapters on the device, more than Glance:Adapters:MaxResidentMiB ({BudgetMiB:F1} MiB); " +
        "such steps run over the budget (reported once)")]
    public static partial void AdapterBudgetExceeded(ILogger logger, double neededMiB, double budgetMiB);
}
