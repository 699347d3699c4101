using System.Text.Json;
using Glance.Cli.Commands;
using Glance.Engine.Runtime;
using Glance.Engine.Tests.Snapshots;
using static Glance.Engine.Tests.Memory.FakeMachineFiles;
using static Glance.Engine.Tests.Snapshots.SnapshotAssertions;

namespace Glance.Engine.Tests.Memory;

/// <summary>`glance inspect` prints, per device, the memory the model needs at start-up beside what the device has left, and whether it fits.</summary>
public sealed class InspectMemoryTests : IClassFixture<TinyFluxFolder>, IDisposable
{
    readonly TinyFluxFolder _snapshot;
    readonly FakeMachineFiles _machine = new();

    public InspectMemoryTests(TinyFluxFolder snapshot) => _snapshot = snapshot;

    public void Dispose() => _machine.Dispose();

    [Fact]
    public void TheTextSaysPerDeviceWhatIsNeededWhatIsLeftAndWhetherItFits()
    {
        _machine.MemAvailable(64 * GiB);
        string fits = Run(InspectCommand.Create(_machine.Memory), _snapshot.Path, "--device", "cpu");
        Assert.Contains("cpu needs 1.", fits, StringComparison.Ordinal);
        Assert.Contains("64.00 GiB available (MemAvailable in " + _machine.Memory.MemInfo, fits, StringComparison.Ordinal);
        Assert.EndsWith(": fits", fits.TrimEnd(), StringComparison.Ordinal);

        _machine.SelfCgroup("0::/\n").V2("", max: 768L << 20, current: 0);
        string tooSmall = Run(InspectCommand.Create(_machine.Memory), _snapshot.Path, "--device", "cpu");
        Assert.Contains("but only 768.0 MiB is available (cgroup limit", tooSmall, StringComparison.Ordinal);
        Assert.Contains("does NOT fit", tooSmall, StringComparison.Ordinal);
    }

    [Fact]
    public void TheJsonListsEveryDevicesNeedAndAvailableMemoryWithTheGpuNotChecked()
    {
        _machine.MemAvailable(64 * GiB);

        using var json = JsonDocument.Parse(Run(InspectCommand.Create(_machine.Memory), _snapshot.Path, "--device", "cuda", "--text-encoder-device", "cpu", "--dtype", "float32", "--json"));

        var devices = json.RootElement.GetProperty("devices").EnumerateObject().ToDictionary(d => d.Name, d => d.Value.GetInt64());
        var memory = json.RootElement.GetProperty("memory").EnumerateArray().ToDictionary(d => d.GetProperty("device").GetString()!);
        Assert.Equal(devices["cpu"] + GiB, memory["cpu"].GetProperty("neededBytes").GetInt64());
        Assert.Equal(64 * GiB, memory["cpu"].GetProperty("availableBytes").GetInt64());
        Assert.True(memory["cpu"].GetProperty("fits").GetBoolean());
        Assert.Equal(devices["cuda"] + GiB, memory["cuda"].GetProperty("neededBytes").GetInt64());
        Assert.Equal(JsonValueKind.Null, memory["cuda"].GetProperty("fits").ValueKind);
        Assert.Equal(SystemMemory.CudaUnknown, memory["cuda"].GetProperty("source").GetString());
    }

    [Fact]
    public void CommandsThatLoadAModelAcceptNoMemoryCheck()
    {
        string input = _snapshot.File("clip-in.safetensors"), output = _snapshot.File("clip-out.safetensors");
        using (var ids = TorchSharp.torch.tensor(new long[] { 300, 7, 515 }, [1, 3])) Checkpoints.SafetensorsFile.Write(input, [new("input_ids", ids)]);

        Run(RunComponentCommand.Create(), "--model", _snapshot.Path, "--component", "clip", "--inputs", input, "--out", output, "--device", "cpu", "--no-memory-check");

        Assert.True(File.Exists(output));
    }
}

/// <summary>One tiny FLUX.1-dev snapshot in the Hugging Face layout, in a folder of its own with room for other files.</summary>
public sealed class TinyFluxFolder : IDisposable
{
    public TinyFluxFolder()
    {
        using var builder = FluxSnapshotBuilder.Create(FluxVariant.Dev);
        builder.Write(Path);
    }

    public string Root { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "glance-tiny-flux-" + Guid.NewGuid().ToString("N"));

    public string Path => System.IO.Path.Combine(Root, "FLUX.1-dev");

    public string File(string name) => System.IO.Path.Combine(Root, name);

    public void Dispose()
    {
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
    }
}
