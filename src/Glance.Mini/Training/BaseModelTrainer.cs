using Glance.Engine.Imaging;
using Glance.Engine.Models.Flux;
using Glance.Engine.Runtime;
using Glance.Engine.Models;
using Glance.Engine.Pipeline;
using Glance.Engine.Sampling;
using Glance.Engine.Text;
using Glance.Engine.Training;
using Glance.Mini.World;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Mini.Training;

/// <summary>Step counts and rates of the three stages of base-model training on the shapes world.</summary>
public sealed record BaseTrainingOptions(
    long Seed = 1,
    int AutoencoderSteps = 3000,
    int AutoencoderBatch = 8,
    double AutoencoderLearningRate = 2e-3,
    double AutoencoderLatentPenalty = 1e-4,
    double AutoencoderForegroundWeight = 10,
    int LatentCacheSize = 24000,
    int TransformerSteps = 5000,
    int TransformerBatch = 32,
    double TransformerLearningRate = 5e-4,
    int WarmupSteps = 200,
    double CaptionDropout = 0.1,
    int ImageSize = 64);

/// <summary>Metrics of a finished training run, written into the model card.</summary>
public sealed record BaseTrainingReport(
    TimeSpan AutoencoderTime, double AutoencoderFinalLoss,
    TimeSpan CacheTime, TimeSpan TransformerTime, double TransformerFinalLoss,
    double LatentShift, double LatentScale,
    IReadOnlyList<(int Step, double MeanLoss)> AutoencoderCurve,
    IReadOnlyList<(int Step, double MeanLoss)> TransformerCurve);

/// <summary>
/// Trains a glance-mini style model from scratch on the procedural shapes world, on the CPU:
/// (1) the autoencoder on renders (reconstruction + a small KL term), then the latent scale and shift are
/// measured so latents have zero mean and unit variance; (2) the training renders are encoded once;
/// (3) transformer and text encoder are trained jointly with flow matching (velocity = noise - x0) and caption
/// dropout, so that classifier-free guidance works.
/// </summary>
public static class BaseModelTrainer
{
    public static (GlanceModel Model, BaseTrainingReport Report) Train(GlanceModelConfig config, BaseTrainingOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        config.Validate();
        var data = new MiniWorldBatches((ulong)options.Seed, options.ImageSize);
        var indexRandom = new Random((int)options.Seed);

        random.manual_seed(options.Seed);
        var (autoencoder, aeProgress) = TrainAutoencoder(config.Autoencoder, data, options, indexRandom, log);
        var (shift, scale) = MeasureLatentStatistics(autoencoder, data, options);
        log.WriteLine($"[latents] shift {shift:F4} scale {scale:F4}");
        var reconstruction = ReconstructionAccuracy(autoencoder, options.ImageSize);
        log.WriteLine($"[autoencoder] detector on 64 held-out reconstructions: {reconstruction}");

        var finalConfig = config with { Autoencoder = config.Autoencoder with { ShiftFactor = shift, ScaleFactor = scale } };
        var tokenizer = WordTokenizer.Build(SceneCaption.Vocabulary);
        var model = GlanceModel.Create(finalConfig, tokenizer, CPU, ScalarType.Float32, options.Seed);
        try
        {
            CopyWeights(autoencoder, model.Autoencoder);
            autoencoder.Dispose();

            var cacheClock = System.Diagnostics.Stopwatch.StartNew();
            var (latents, captions) = EncodeTrainingSet(model, data, options, log);
            var cacheTime = cacheClock.Elapsed;

            var flowProgress = TrainFlow(model, latents, captions, options, indexRandom, log);
            latents.Dispose();
            model.Transformer.eval();
            model.TextEncoder.eval();
            model.Autoencoder.eval();

            var report = new BaseTrainingReport(
                aeProgress.Elapsed, aeProgress.History[^1].MeanLoss, cacheTime,
                flowProgress.Elapsed, flowProgress.History[^1].MeanLoss, shift, scale,
                [.. aeProgress.History], [.. flowProgress.History]);
            return (model, report);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    static (AutoEncoder, TrainingProgress) TrainAutoencoder(AutoencoderConfig config, MiniWorldBatches data, BaseTrainingOptions o, Random indexRandom, TextWriter log)
    {
        var autoencoder = new AutoEncoder(config);
        autoencoder.train();
        var parameters = autoencoder.parameters().ToArray();
        using var optimizer = optim.AdamW(parameters, lr: o.AutoencoderLearningRate, weight_decay: 0.0);
        var progress = new TrainingProgress("autoencoder", o.AutoencoderSteps, log, TimeSpan.FromSeconds(30));
        for (int step = 1; step <= o.AutoencoderSteps; step++)
        {
            using var scope = NewDisposeScope();
            SetLearningRate(optimizer, o.AutoencoderLearningRate * Schedule(step, o.AutoencoderSteps, Math.Min(o.WarmupSteps, o.AutoencoderSteps / 10)));
            var (images, _) = data.Get(RandomIndices(indexRandom, o.AutoencoderBatch));
            // Deterministic: the decoder learns from the latent mean, which is what sampling uses. Sampling
            // z with the initial unit variance drowns the mean for the first thousands of steps and the
            // decoder learns grey blobs (seen in a first run).
            var (mean, _) = autoencoder.EncodeDistribution(images);
            var reconstruction = autoencoder.decoder.forward(mean);
            var error = reconstruction.sub(images);
            var weights = ForegroundWeights(images, o.AutoencoderForegroundWeight);
            var loss = error.abs().Plus(error.square()).mul(weights).mean().div(weights.mean())
                .Plus(mean.square().mean().Times(o.AutoencoderLatentPenalty));
            optimizer.zero_grad();
            loss.backward();
            nn.utils.clip_grad_norm_(parameters, 1.0);
            optimizer.step();
            progress.Report(step, loss.item<float>());
        }
        autoencoder.eval();
        return (autoencoder, progress);
    }

    /// <summary>
    /// Per-pixel loss weights [B, 1, H, W]: 1 on the background, 1 + w on the object. Objects cover a few
    /// percent of a scene, so an unweighted pixel loss is minimised by a good background and a grey blob
    /// (seen in a first run: 17% colour accuracy on reconstructions). The background colour is the corner pixel,
    /// which no object reaches.
    /// </summary>
    static Tensor ForegroundWeights(Tensor images, double foregroundWeight)
    {
        var background = images.narrow(2, 0, 1).narrow(3, 0, 1);
        var foreground = images.sub(background).abs().amax([1], keepdim: true).GreaterThan(0.1).to(images.dtype);
        return foreground.Times(foregroundWeight).Plus(1.0);
    }

    /// <summary>Latent mean and 1/std over a sample of training renders, as FLUX's shift and scale factors.</summary>
    static (double Shift, double Scale) MeasureLatentStatistics(AutoEncoder autoencoder, MiniWorldBatches data, BaseTrainingOptions o)
    {
        using var scope = NewDisposeScope();
        using var mode = no_grad();
        var means = new List<Tensor>();
        for (long start = 0; start < 1024; start += 64)
        {
            var (images, _) = data.Get(Enumerable.Range(0, 64).Select(i => start + i + 10_000_000L).ToArray());
            means.Add(autoencoder.EncodeDistribution(images).Mean);
        }
        var all = cat(means.ToArray());
        return (all.mean().item<float>(), 1.0 / all.std().item<float>());
    }

    /// <summary>How well the shapes detector reads held-out scenes after an encode-decode round trip.</summary>
    static SceneScore ReconstructionAccuracy(AutoEncoder autoencoder, int imageSize)
    {
        using var scope = NewDisposeScope();
        using var mode = no_grad();
        var scenes = new SceneSampler(99, SceneSplit.HeldOut).Take(64).ToArray();
        var pixels = scenes.SelectMany(s => PixelArrays.ToSignedUnitChw(SceneRenderer.Render(s, imageSize))).ToArray();
        var (mean, _) = autoencoder.EncodeDistribution(tensor(pixels, [scenes.Length, 3, imageSize, imageSize]));
        var images = autoencoder.decoder.forward(mean).Clamped(-1, 1).contiguous();
        return SceneEvaluator.Score(scenes.Select((s, i) =>
            (s, PixelArrays.FromSignedUnitChw(images[i].data<float>().ToArray(), imageSize, imageSize))));
    }

    static (Tensor Latents, string[] Captions) EncodeTrainingSet(GlanceModel model, MiniWorldBatches data, BaseTrainingOptions o, TextWriter log)
    {
        const int chunk = 64;
        var parts = new List<Tensor>();
        var captions = new List<string>(o.LatentCacheSize);
        var progress = new TrainingProgress("encode", (o.LatentCacheSize + chunk - 1) / chunk, log, TimeSpan.FromSeconds(30));
        for (int start = 0, step = 1; start < o.LatentCacheSize; start += chunk, step++)
        {
            using var scope = NewDisposeScope();
            using var mode = no_grad();
            int count = Math.Min(chunk, o.LatentCacheSize - start);
            var (images, batchCaptions) = data.Get(Enumerable.Range(start, count).Select(i => (long)i).ToArray());
            parts.Add(model.EncodeToLatents(images).MoveToOuterDisposeScope());
            captions.AddRange(batchCaptions);
            progress.Report(step, 0);
        }
        var latents = cat(parts.ToArray());
        foreach (var part in parts) part.Dispose();
        return (latents, captions.ToArray());
    }

    static TrainingProgress TrainFlow(GlanceModel model, Tensor latents, string[] captions, BaseTrainingOptions o, Random indexRandom, TextWriter log)
    {
        model.Transformer.train();
        model.TextEncoder.train();
        var parameters = model.Transformer.parameters().Concat(model.TextEncoder.parameters()).ToArray();
        using var optimizer = optim.AdamW(parameters, lr: o.TransformerLearningRate, weight_decay: 0.01);
        var progress = new TrainingProgress("transformer", o.TransformerSteps, log, TimeSpan.FromSeconds(30));
        double mu = FlowMatchSchedule.Mu(model.ImageSeqLen(o.ImageSize, o.ImageSize), model.Config.Schedule);
        for (int step = 1; step <= o.TransformerSteps; step++)
        {
            using var scope = NewDisposeScope();
            SetLearningRate(optimizer, o.TransformerLearningRate * Schedule(step, o.TransformerSteps, o.WarmupSteps));
            long[] rows = RandomIndices(indexRandom, o.TransformerBatch, latents.shape[0]);
            var x0 = latents.index_select(0, tensor(rows));
            var prompts = rows.Select(r => indexRandom.NextDouble() < o.CaptionDropout ? "" : captions[r]).ToArray();
            var noise = randn_like(x0);
            // Logit-normal sigmas, shifted like the sampling schedule so that training covers where sampling evaluates.
            var uniform = sigmoid(randn(rows.Length));
            var sigma = uniform.Times(Math.Exp(mu)).div(uniform.Times(Math.Exp(mu) - 1).Plus(1.0));
            var s = sigma.reshape(-1, 1, 1);
            var xt = x0.mul(s.SubtractedFrom(1)).Plus(noise.mul(s));
            using var text = model.EncodeText(prompts);
            var velocity = model.PredictVelocity(xt, sigma, text, o.ImageSize, o.ImageSize);
            var loss = nn.functional.mse_loss(velocity, noise.sub(x0));
            optimizer.zero_grad();
            loss.backward();
            nn.utils.clip_grad_norm_(parameters, 1.0);
            optimizer.step();
            progress.Report(step, loss.item<float>());
        }
        return progress;
    }

    /// <summary>Linear warm-up, then cosine decay to 10% of the peak rate.</summary>
    internal static double Schedule(int step, int total, int warmup)
    {
        if (step <= warmup) return (double)step / Math.Max(1, warmup);
        double progress = (double)(step - warmup) / Math.Max(1, total - warmup);
        return 0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }

    static void SetLearningRate(optim.Optimizer optimizer, double rate)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
    }

    static long[] RandomIndices(Random random, int count, long? limit = null)
    {
        var rows = new long[count];
        for (int i = 0; i < count; i++) rows[i] = limit is { } l ? random.NextInt64(l) : random.NextInt64(1_000_000_000L);
        return rows;
    }

    static void CopyWeights(nn.Module from, nn.Module to)
    {
        using var mode = no_grad();
        var source = from.state_dict();
        foreach (var (name, target) in to.state_dict()) target.copy_(source[name]);
    }
}
