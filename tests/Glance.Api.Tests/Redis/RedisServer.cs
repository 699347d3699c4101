using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Glance.Api.Tests.Redis;

/// <summary>
/// A throwaway redis-server (Debian package "redis-server") on a free loopback port, without persistence, in its
/// own temporary directory; shared by the tests of <see cref="RedisTests"/> and stopped after them. Tests
/// keep apart by using their own key prefix.
/// </summary>
public sealed class RedisServer : IDisposable
{
    const int StartAttempts = 3;
    static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    readonly Process process;
    readonly DirectoryInfo directory;

    public RedisServer()
    {
        string executable = FindExecutable()
            ?? throw new InvalidOperationException(
                "The Redis job store tests need a real redis-server on PATH, and none was found: install the Debian package " +
                "'redis-server' (scripts/test.sh installs it on a root apt host). These tests fail rather than skip without it.");
        directory = Directory.CreateTempSubdirectory("glance-redis-");
        string? lastFailure = null;
        for (int attempt = 0; attempt < StartAttempts; attempt++)
        {
            // Another process may take the free port between our probe and redis binding it; then try another.
            int port = FreePort();
            Process started = Start(executable, port);
            lastFailure = WaitUntilAnswering(started, port);
            if (lastFailure is null)
            {
                process = started;
                Port = port;
                return;
            }
            Stop(started);
        }
        directory.Delete(recursive: true);
        throw new InvalidOperationException($"redis-server did not start after {StartAttempts} attempts: {lastFailure}");
    }

    public int Port { get; }

    /// <summary>A StackExchange.Redis connection string for the server.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>A key prefix no other test uses.</summary>
    public static string UniquePrefix() => $"test-{Guid.NewGuid():N}:";

    public void Dispose()
    {
        Stop(process);
        directory.Delete(recursive: true);
    }

    static string? FindExecutable() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin").Append("/usr/sbin")
            .Select(folder => Path.Combine(folder, "redis-server"))
            .FirstOrDefault(File.Exists);

    Process Start(string executable, int port)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[]
        {
            "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", directory.FullName, "--daemonize", "no",
        })
            start.ArgumentList.Add(argument);
        Process started = Process.Start(start) ?? throw new InvalidOperationException($"{executable} did not start.");
        started.OutputDataReceived += (_, _) => { };
        started.ErrorDataReceived += (_, _) => { };
        started.BeginOutputReadLine();
        started.BeginErrorReadLine();
        return started;
    }

    /// <summary>Null once the server answers PING; otherwise why it did not.</summary>
    static string? WaitUntilAnswering(Process started, int port)
    {
        DateTime deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (started.HasExited) return $"it exited with code {started.ExitCode} (port {port})";
            if (Pings(port)) return null;
            Thread.Sleep(20);
        }
        return $"it did not answer PING on port {port} within {StartTimeout.TotalSeconds} s";
    }

    static bool Pings(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            using NetworkStream stream = client.GetStream();
            stream.Write("PING\r\n"u8);
            var reply = new byte[16];
            int read = stream.Read(reply);
            return Encoding.ASCII.GetString(reply, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>A loopback port nothing listens on (free when asked).</summary>
    public static int ClosedPort() => FreePort();

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    static void Stop(Process started)
    {
        if (!started.HasExited)
        {
            started.Kill();
            started.WaitForExit();
        }
        started.Dispose();
    }
}

/// <summary>The test classes that share one <see cref="RedisServer"/>.</summary>
[CollectionDefinition(Name)]
public sealed class RedisTests : ICollectionFixture<RedisServer>
{
    public const string Name = "Redis";
}
