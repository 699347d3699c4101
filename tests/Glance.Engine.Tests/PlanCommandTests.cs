using System.CommandLine;
using System.Text.Json;
using Glance.Cli.Commands;
using Glance.Engine.Sampling;

namespace Glance.Engine.Tests;

public class PlanCommandTests
{
    static string Run(params string[] args)
    {
        using var output = new StringWriter();
        int exit = PlanCommand.Create().Parse(args).Invoke(new InvocationConfiguration { Output = output });
        Assert.Equal(0, exit);
        return output.ToString();
    }

    [Theory]
    [InlineData("flux")]
    [InlineData("qwen-image")]
    public void JsonPlanHasSlowThenFastPhasesWithTimestepsThousandTimesSigmas(string preset)
    {
        using var json = JsonDocument.Parse(Run("--preset", preset, "--width", "1024", "--height", "1024", "--json"));
        var phases = json.RootElement.GetProperty("phases").EnumerateArray().ToArray();
        Assert.Equal(new[] { "slow", "fast" }, phases.Select(p => p.GetProperty("name").GetString()));
        Assert.Equal(new[] { "slow", "fast" }, phases.Select(p => p.GetProperty("adapter").GetString()));

        var expected = FlowMatchSchedule.Sigmas(50, SamplerPresets.Get(preset).Schedule, 4096);
        var sigmas = phases.SelectMany(p => p.GetProperty("sigmas").EnumerateArray().Select(s => s.GetDouble())).ToArray();
        Assert.Equal(new[] { 0, 2, 4, 6, 8, 10, 20, 30, 40, 49 }.Select(i => expected[i]), sigmas);
        var timesteps = phases.SelectMany(p => p.GetProperty("timesteps").EnumerateArray().Select(s => s.GetDouble())).ToArray();
        Assert.Equal(sigmas.Select(s => 1000 * s), timesteps);
    }

    [Fact]
    public void BaseModePrintsOnePhaseWithNullAdapter()
    {
        using var json = JsonDocument.Parse(Run("--mode", "base", "--steps", "4", "--json"));
        var phase = Assert.Single(json.RootElement.GetProperty("phases").EnumerateArray().ToArray());
        Assert.Equal(JsonValueKind.Null, phase.GetProperty("adapter").ValueKind);
        Assert.Equal(4, phase.GetProperty("sigmas").GetArrayLength());
    }

    [Fact]
    public void TableReportsTotalSigmaTravelOfOne()
    {
        string table = Run("--preset", "flux", "--width", "512", "--height", "512");
        Assert.Contains("10 model evaluations; sigma travelled 1.000000", table, StringComparison.Ordinal);
    }
}
