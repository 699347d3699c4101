using Glance.Engine.Models.Flux;
using Glance.Engine.Models.T5;
using Glance.Engine.Runtime;
using Glance.Engine.Checkpoints;
using Glance.Engine.Models;
using Glance.Engine.Text;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

public sealed class StateDictIOTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("glance-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    string PathOf(string name) => Path.Combine(_folder, name);

    static T5Encoder FreshT5(int seed)
    {
        return SeededWeights.Redraw(new T5Encoder(T5Config.Tiny), seed);
    }

    static Tensor T5Output(T5Encoder model)
    {
        using var _ = no_grad();
        using var ids = tensor(new long[] { 5, 17, 3, 99, 1 }, [1, 5]);
        return model.Forward(ids);
    }

    /// <summary>Rewrites a saved checkpoint through an edit of its tensor dictionary.</summary>
    string Edited(string source, string name, Action<Dictionary<string, Tensor>> edit)
    {
        using var scope = NewDisposeScope();
        var tensors = Safetensors.LoadStateDict(source);
        edit(tensors);
        string path = PathOf(name);
        Safetensors.SaveStateDict(path, tensors);
        return path;
    }

    [Fact]
    public void AutoencoderSaveThenLoadIntoFreshModuleGivesIdenticalOutputs()
    {
        using var original = SeededWeights.Redraw(new AutoEncoder(AutoencoderConfig.Tiny), seed: 1);
        string path = PathOf("ae.safetensors");
        StateDictIO.Save(original, path);
        using var restored = SeededWeights.Redraw(new AutoEncoder(AutoencoderConfig.Tiny), seed: 2);

        using var _ = no_grad();
        using var generator = new Generator(3, CPU);
        using var unit = rand([1, 3, 16, 16], generator: generator);
        using var image = unit.Times(2.0).Minus(1);
        using var before = original.Decode(original.Encode(image));
        using var untrained = restored.Decode(restored.Encode(image));
        Assert.False(before.allclose(untrained)); // different seeds really do differ
        StateDictIO.Load(restored, path);
        using var after = restored.Decode(restored.Encode(image));
        Assert.True(before.equal(after).all().item<bool>());
    }

    [Fact]
    public void T5SaveThenLoadIntoFreshModuleGivesIdenticalOutputs()
    {
        using var original = FreshT5(1);
        string path = PathOf("t5.safetensors");
        StateDictIO.Save(original, path);
        using var restored = FreshT5(2);
        StateDictIO.Load(restored, path);
        using var expected = T5Output(original);
        using var actual = T5Output(restored);
        Assert.True(expected.equal(actual).all().item<bool>());
    }

    [Fact]
    public void MissingKeyFailsNamingKeyAndFile()
    {
        using var model = FreshT5(1);
        string full = PathOf("full.safetensors");
        StateDictIO.Save(model, full);
        const string key = "encoder.block.1.layer.0.SelfAttention.k.weight";
        string path = Edited(full, "missing.safetensors", t => t.Remove(key));
        var error = Assert.Throws<InvalidDataException>(() => StateDictIO.Load(FreshT5(2), path));
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnexpectedKeyFailsNamingKeyAndFile()
    {
        using var model = FreshT5(1);
        string full = PathOf("full.safetensors");
        StateDictIO.Save(model, full);
        const string key = "encoder.block.0.layer.0.SelfAttention.q.bias";
        string path = Edited(full, "extra.safetensors", t => t[key] = zeros(64));
        var error = Assert.Throws<InvalidDataException>(() => StateDictIO.Load(FreshT5(2), path));
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("unexpected", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShapeMismatchFailsNamingKeyFileAndBothShapes()
    {
        using var model = FreshT5(1);
        string full = PathOf("full.safetensors");
        StateDictIO.Save(model, full);
        const string key = "encoder.block.0.layer.1.DenseReluDense.wo.weight";
        string path = Edited(full, "shape.safetensors", t => t[key] = zeros(64, 100));
        using var target = FreshT5(2);
        using var before = target.state_dict()[key].clone();
        var error = Assert.Throws<InvalidDataException>(() => StateDictIO.Load(target, path));
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("[64, 100]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[64, 128]", error.Message, StringComparison.Ordinal);
        Assert.True(target.state_dict()[key].equal(before).all().item<bool>()); // nothing copied from a rejected file
    }

    [Fact]
    public void ShardedIndexLoadsEveryShardByIndexPathOrFolder()
    {
        using var original = FreshT5(1);
        string shardFolder = Directory.CreateDirectory(PathOf("sharded")).FullName;
        var state = original.state_dict();
        var first = state.Where(kv => kv.Key.StartsWith("encoder.block.0.", StringComparison.Ordinal)).ToDictionary();
        var second = state.Where(kv => !first.ContainsKey(kv.Key)).ToDictionary();
        Safetensors.SaveStateDict(Path.Combine(shardFolder, "model-00001-of-00002.safetensors"), first);
        Safetensors.SaveStateDict(Path.Combine(shardFolder, "model-00002-of-00002.safetensors"), second);
        var weightMap = first.Keys.Select(k => $"\"{k}\": \"model-00001-of-00002.safetensors\"")
            .Concat(second.Keys.Select(k => $"\"{k}\": \"model-00002-of-00002.safetensors\""));
        string index = Path.Combine(shardFolder, "model.safetensors.index.json");
        File.WriteAllText(index, $"{{\"metadata\": {{\"total_size\": 0}}, \"weight_map\": {{{string.Join(", ", weightMap)}}}}}");

        using var expected = T5Output(original);
        foreach (var path in new[] { index, shardFolder })
        {
            using var restored = FreshT5(2);
            StateDictIO.Load(restored, path);
            using var actual = T5Output(restored);
            Assert.True(expected.equal(actual).all().item<bool>(), $"loading through '{path}'");
        }
    }

    [Fact]
    public void KeyMappingRunsBeforeTheStrictCheck()
    {
        using var original = FreshT5(1);
        string plain = PathOf("plain.safetensors");
        StateDictIO.Save(original, plain);
        string prefixed = Edited(plain, "prefixed.safetensors", t =>
        {
            foreach (var key in t.Keys.ToList())
            {
                t["text_encoders.t5xxl." + key] = t[key];
                t.Remove(key);
            }
        });
        using var restored = FreshT5(2);
        Assert.Throws<InvalidDataException>(() => StateDictIO.Load(restored, prefixed));
        StateDictIO.Load(restored, prefixed, t => t.ToDictionary(kv => kv.Key["text_encoders.t5xxl.".Length..], kv => kv.Value));
        using var expected = T5Output(original);
        using var actual = T5Output(restored);
        Assert.True(expected.equal(actual).all().item<bool>());
    }

    [Fact]
    public void LoadConvertsToTheModulesDtype()
    {
        using var original = FreshT5(1);
        string path = PathOf("fp32.safetensors");
        StateDictIO.Save(original, path);
        using var half = new T5Encoder(T5Config.Tiny, ScalarType.BFloat16); // every weight is overwritten by the load
        StateDictIO.Load(half, path);
        var source = original.state_dict()["encoder.block.0.layer.0.SelfAttention.q.weight"];
        var loaded = half.state_dict()["encoder.block.0.layer.0.SelfAttention.q.weight"];
        Assert.Equal(ScalarType.BFloat16, loaded.dtype);
        using var expected = source.to(ScalarType.BFloat16);
        Assert.True(loaded.equal(expected).all().item<bool>());
        using var full = T5Output(original);
        using var reduced = T5Output(half);
        using var reducedAsFloat = reduced.to(ScalarType.Float32);
        // The weights are exactly float32's rounded to bfloat16 (checked above); what remains is the forward in
        // bfloat16: about 13 sequential roundings per T5 layer (norm, q/k/v, scores with the position bias, softmax,
        // mix, output, residual, norm, gated GELU, output, residual), two layers, plus embedding and final norm: 28,
        // sqrt(28) * u = 2.1% of the output's norm. Measured 0.76%.
        double relativeError = reducedAsFloat.sub(full).norm().item<float>() / full.norm().item<float>();
        Assert.InRange(relativeError, 0, Bfloat16Bounds.Sequential(28));
    }

    [Fact]
    public void SaveReplacesALargerExistingFile()
    {
        using var large = SeededWeights.Redraw(new AutoEncoder(AutoencoderConfig.Tiny), seed: 1);
        using var small = FreshT5(1);
        string path = PathOf("reused.safetensors");
        StateDictIO.Save(large, path);
        StateDictIO.Save(small, path);
        using var restored = FreshT5(2);
        StateDictIO.Load(restored, path);
        Assert.True(new FileInfo(path).Length < 1_000_000);
    }

    [Fact]
    public void FolderWithSeveralFilesAndNoIndexFailsListingThem()
    {
        using var model = FreshT5(1);
        StateDictIO.Save(model, PathOf("a.safetensors"));
        StateDictIO.Save(model, PathOf("b.safetensors"));
        var error = Assert.Throws<InvalidDataException>(() => StateDictIO.Load(model, _folder));
        Assert.Contains("a.safetensors", error.Message, StringComparison.Ordinal);
        Assert.Contains("b.safetensors", error.Message, StringComparison.Ordinal);
    }
}
