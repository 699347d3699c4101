namespace Glance.Contracts.Jobs;

/// <summary>Where an asynchronous job stands, as serialized ("queued", "running", ...).</summary>
public static class JobStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static bool IsTerminal(string status) => status is Completed or Failed or Cancelled;
}
