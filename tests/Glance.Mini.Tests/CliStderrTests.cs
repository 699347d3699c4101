using System.Diagnostics;
using Glance.Engine.Runtime;

namespace Glance.Mini.Tests;

/// <summary>
/// `glance` as users run it, in a child process (libtorch writes its warnings to the process's stderr, out of .NET's reach):
/// its stderr carries no NNPACK warnings, and still carries what the command itself reports there.
/// </summary>
public sealed class CliStderrTests : IDisposable
{
    readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("glance-stderr-");

    [Fact]
    public void NnpackCanBeSwitchedOffInTheLoadedLibtorch()
    {
        Assert.True(Nnpack.Disable(), "libtorch's NNPACK switch (at::Context::setUserEnabledNNPACK) was not found in libtorch_cpu.so.");
    }

    [Fact]
    public void GenerateWritesNoNnpackWarningsToStderr()
    {
        string png = Path.Combine(_directory.FullName, "out.png");
        (int exit, string stdout, string stderr) = RunGlance("generate", "--prompt", "a large red circle at the top left on a gray background",
            "--mode", "base", "--steps", "2", "--width", "32", "--height", "32", "--out", png);

        Assert.True(exit == 0, $"glance generate exited with {exit}: {stdout}{stderr}");
        Assert.True(File.Exists(png));
        // On CPUs without NNPACK support libtorch printed "Could not initialize NNPACK! Reason: Unsupported hardware." per convolution.
        Assert.DoesNotContain("NNPACK", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void OtherStderrOutputStillReachesTheUser()
    {
        (int exit, _, string stderr) = RunGlance("generate", "--prompt", "a red circle", "--model", Path.Combine(_directory.FullName, "no-such-model"),
            "--out", Path.Combine(_directory.FullName, "out.png"));

        Assert.NotEqual(0, exit);
        Assert.Contains("no-such-model", stderr, StringComparison.Ordinal);
    }

    static (int Exit, string Stdout, string Stderr) RunGlance(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "glance.dll"));
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("glance did not finish within 120 s.");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
