namespace Glance.Api.Tests.Browser;

/// <summary>A test that drives headless Chromium: skipped, with the reason, where Chromium is not installed (CI installs it).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (HeadlessChromium.MissingReason is { } reason) Skip = reason;
    }
}
