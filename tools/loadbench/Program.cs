using System.CommandLine;
using Glance.LoadBench;

var url = new Option<string>("--url") { Description = "Base address of a running Glance server.", DefaultValueFactory = _ => "http://localhost:8080" };
var concurrency = new Option<int[]>("--concurrency") { Description = "Concurrency levels to run, in order.", DefaultValueFactory = _ => [1, 4, 16], AllowMultipleArgumentsPerToken = true };
var requests = new Option<int>("--requests") { Description = "Requests per concurrency level (at least the concurrency).", DefaultValueFactory = _ => 32 };
var warmup = new Option<int>("--warmup") { Description = "Unmeasured requests before the first level.", DefaultValueFactory = _ => 2 };
var prompt = new Option<string>("--prompt") { Description = "Prompt sent with every request.", DefaultValueFactory = _ => "a lighthouse on a cliff at dawn, oil painting" };
var mode = new Option<string>("--mode") { Description = "glance or base.", DefaultValueFactory = _ => "glance" };
var width = new Option<int?>("--width") { Description = "Image width (server default when omitted)." };
var height = new Option<int?>("--height") { Description = "Image height (server default when omitted)." };
var duration = new Option<double?>("--duration-minutes") { Description = "Run each level for this long instead of a request count (soak tests)." };
var apiKey = new Option<string?>("--api-key") { Description = "Sent as X-Api-Key when the server requires keys." };
var adapterSets = new Option<string[]>("--adapters") { Description = "Adapter sets the requests name in turn (e.g. set-0 set-1 set-2 set-3); none: the default set.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
var trainImage = new Option<FileInfo?>("--train-image") { Description = "Keep one training job running during each level (POST /v1/adapters/loadbench-training/train with this PNG or JPEG; needs --admin-key)." };
var trainCaption = new Option<string>("--train-caption") { Description = "The training image's caption.", DefaultValueFactory = _ => "a small red circle at the center on a black background" };
var adminKey = new Option<string?>("--admin-key") { Description = "Sent as X-Api-Key for the training job's calls." };
var latencies = new Option<FileInfo?>("--latencies") { Description = "Append each successful request's latency (ms, one per line) to this file, to pool several runs." };

var root = new RootCommand(
    "Load benchmark for a running Glance server: POST /generate at each concurrency level; reports images/s, " +
    "p50/p95/p99 latency, mean per-stage times (Server-Timing) and the mean engine batch size (from /metrics).")
{
    url, concurrency, requests, duration, warmup, prompt, mode, width, height, apiKey, latencies, adapterSets, trainImage, trainCaption, adminKey,
};
root.SetAction(async (parse, cancellationToken) =>
{
    var settings = new BenchmarkSettings(
        new Uri(parse.GetValue(url)!), parse.GetValue(prompt)!, parse.GetValue(mode)!, parse.GetValue(width), parse.GetValue(height), parse.GetValue(apiKey),
        parse.GetValue(adapterSets)!);
    using var bench = new Benchmark(settings);
    using var trainingClient = new HttpClient { BaseAddress = settings.Url };
    if ((parse.GetValue(adminKey) ?? parse.GetValue(apiKey)) is { } trainingKey) trainingClient.DefaultRequestHeaders.Add("X-Api-Key", trainingKey);
    TrainingLoad? training = parse.GetValue(trainImage) is { } image
        ? new TrainingLoad(trainingClient, "loadbench-training", image, parse.GetValue(trainCaption)!)
        : null;
    await bench.WarmUpAsync(parse.GetValue(warmup), cancellationToken);
    Console.WriteLine(LevelResult.TableHeader);
    foreach (int level in parse.GetValue(concurrency)!)
    {
        TimeSpan? limit = parse.GetValue(duration) is { } minutes ? TimeSpan.FromMinutes(minutes) : null;
        string? job = training is null ? null : await training.StartAsync(cancellationToken);
        LevelResult result = await bench.RunLevelAsync(level, Math.Max(level, parse.GetValue(requests)), limit, cancellationToken);
        int trainingSteps = job is null ? 0 : await training!.StopAsync(job, cancellationToken);
        Console.WriteLine(result.TableRow());
        if (job is not null) await Console.Error.WriteLineAsync($"training job {job}: {trainingSteps} steps by the end of the level");
        if (parse.GetValue(latencies) is { } file) await result.AppendLatenciesAsync(file, cancellationToken);
    }
    return 0;
});
return await root.Parse(args).InvokeAsync();
