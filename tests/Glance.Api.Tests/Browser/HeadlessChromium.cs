using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Glance.Api.Tests.Browser;

/// <summary>
/// Headless Chromium (Debian package "chromium") driven over the Chrome DevTools Protocol: one page, navigated
/// and inspected with JavaScript. Each instance has its own profile directory, removed on dispose.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>Why browser tests cannot run here; null when Chromium is installed.</summary>
    public static string? MissingReason => File.Exists(ExecutablePath)
        ? null
        : $"Browser tests need Chromium at {ExecutablePath}: install the Debian package 'chromium' (scripts/install-test-deps.sh does).";
    static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    readonly Process process;
    readonly DirectoryInfo profile;
    readonly ClientWebSocket socket;
    int lastId;

    HeadlessChromium(Process process, DirectoryInfo profile, ClientWebSocket socket)
    {
        this.process = process;
        this.profile = profile;
        this.socket = socket;
    }

    public static async Task<HeadlessChromium> LaunchAsync()
    {
        if (MissingReason is { } missing) Assert.Fail(missing);
        DirectoryInfo profile = Directory.CreateTempSubdirectory("glance-chromium-");
        var start = new ProcessStartInfo(ExecutablePath)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--no-proxy-server",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
            "--window-size=1280,1400", "--hide-scrollbars",
            $"--user-data-dir={profile.FullName}", "--remote-debugging-port=0", "about:blank",
        })
            start.ArgumentList.Add(argument);
        Process process = Process.Start(start) ?? throw new InvalidOperationException($"{ExecutablePath} did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            Uri endpoint = await PageEndpointAsync(process, profile);
            var socket = new ClientWebSocket();
            await socket.ConnectAsync(endpoint, CancellationToken.None);
            return new HeadlessChromium(process, profile, socket);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            profile.Delete(recursive: true);
            throw;
        }
    }

    /// <summary>Chromium writes its DevTools port to the profile; the page's WebSocket address comes from /json/list.</summary>
    static async Task<Uri> PageEndpointAsync(Process process, DirectoryInfo profile)
    {
        string portFile = Path.Combine(profile.FullName, "DevToolsActivePort");
        DateTime deadline = DateTime.UtcNow + StartTimeout;
        while (!File.Exists(portFile) || new FileInfo(portFile).Length == 0)
        {
            if (process.HasExited) throw new InvalidOperationException($"Chromium exited with code {process.ExitCode} before opening DevTools.");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Chromium did not open DevTools within {StartTimeout.TotalSeconds} s.");
            await Task.Delay(50);
        }
        string port = (await File.ReadAllLinesAsync(portFile))[0];
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        while (true)
        {
            using JsonDocument targets = JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/json/list")));
            foreach (JsonElement target in targets.RootElement.EnumerateArray())
                if (target.GetProperty("type").GetString() == "page")
                    return new Uri(target.GetProperty("webSocketDebuggerUrl").GetString()!);
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Chromium opened no page.");
            await Task.Delay(50);
        }
    }

    public Task NavigateAsync(Uri url) => SendAsync("Page.navigate", new { url = url.ToString() });

    /// <summary>Evaluates JavaScript in the page (awaiting promises) and returns its JSON value.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        JsonElement result = await SendAsync("Runtime.evaluate", new { expression, returnByValue = true, awaitPromise = true });
        if (result.TryGetProperty("exceptionDetails", out JsonElement exception))
            throw new InvalidOperationException($"The page threw evaluating {expression}: {exception}");
        return result.GetProperty("result").TryGetProperty("value", out JsonElement value) ? value.Clone() : default;
    }

    /// <summary>Writes a PNG of the whole page (beyond the window when it is longer) to <paramref name="path"/>.</summary>
    public async Task ScreenshotAsync(string path)
    {
        JsonElement result = await SendAsync("Page.captureScreenshot", new { format = "png", captureBeyondViewport = true });
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllBytesAsync(path, Convert.FromBase64String(result.GetProperty("data").GetString()!));
    }

    /// <summary>Polls a JavaScript condition until it is true.</summary>
    public async Task WaitForAsync(string condition, string what, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            JsonElement value = await EvaluateAsync(condition);
            if (value.ValueKind == JsonValueKind.True) return;
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out after {timeout.TotalSeconds} s waiting for {what} ({condition}).");
            await Task.Delay(50);
        }
    }

    async Task<JsonElement> SendAsync(string method, object parameters)
    {
        int id = ++lastId;
        byte[] message = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters });
        await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            using JsonDocument reply = JsonDocument.Parse(await ReceiveAsync(timeout.Token));
            JsonElement root = reply.RootElement;
            if (!root.TryGetProperty("id", out JsonElement replyId) || replyId.GetInt32() != id) continue;
            if (root.TryGetProperty("error", out JsonElement error)) throw new InvalidOperationException($"{method} failed: {error}");
            return root.GetProperty("result").Clone();
        }
    }

    async Task<string> ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        WebSocketReceiveResult received;
        do
        {
            received = await socket.ReceiveAsync(buffer, cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close) throw new InvalidOperationException("Chromium closed the DevTools connection.");
            message.Write(buffer, 0, received.Count);
        }
        while (!received.EndOfMessage);
        return Encoding.UTF8.GetString(message.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        socket.Abort();
        socket.Dispose();
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
        try
        {
            profile.Delete(recursive: true);
        }
        catch (IOException)
        {
            // Chromium's helpers may still hold files a moment after exit; the directory is in the temp folder.
        }
    }
}
