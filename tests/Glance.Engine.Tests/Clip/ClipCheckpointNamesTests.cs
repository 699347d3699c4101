using Glance.Engine.Checkpoints;
using Glance.Engine.Models.Clip;

namespace Glance.Engine.Tests.Clip;

public class ClipCheckpointNamesTests
{
    // transformers' CLIPTextModel with one layer (modeling_clip.py: CLIPTextModel.text_model = CLIPTextTransformer with
    // embeddings, encoder.layers[i] = CLIPEncoderLayer(self_attn, layer_norm1, mlp, layer_norm2), final_layer_norm;
    // position_ids is a non-persistent buffer) and the shapes for hidden 32, intermediate 64, vocab 64, 16 positions.
    static readonly Dictionary<string, long[]> TransformersKeys = new(StringComparer.Ordinal)
    {
        ["text_model.embeddings.token_embedding.weight"] = [64, 32],
        ["text_model.embeddings.position_embedding.weight"] = [16, 32],
        ["text_model.encoder.layers.0.self_attn.k_proj.weight"] = [32, 32],
        ["text_model.encoder.layers.0.self_attn.k_proj.bias"] = [32],
        ["text_model.encoder.layers.0.self_attn.v_proj.weight"] = [32, 32],
        ["text_model.encoder.layers.0.self_attn.v_proj.bias"] = [32],
        ["text_model.encoder.layers.0.self_attn.q_proj.weight"] = [32, 32],
        ["text_model.encoder.layers.0.self_attn.q_proj.bias"] = [32],
        ["text_model.encoder.layers.0.self_attn.out_proj.weight"] = [32, 32],
        ["text_model.encoder.layers.0.self_attn.out_proj.bias"] = [32],
        ["text_model.encoder.layers.0.layer_norm1.weight"] = [32],
        ["text_model.encoder.layers.0.layer_norm1.bias"] = [32],
        ["text_model.encoder.layers.0.mlp.fc1.weight"] = [64, 32],
        ["text_model.encoder.layers.0.mlp.fc1.bias"] = [64],
        ["text_model.encoder.layers.0.mlp.fc2.weight"] = [32, 64],
        ["text_model.encoder.layers.0.mlp.fc2.bias"] = [32],
        ["text_model.encoder.layers.0.layer_norm2.weight"] = [32],
        ["text_model.encoder.layers.0.layer_norm2.bias"] = [32],
        ["text_model.final_layer_norm.weight"] = [32],
        ["text_model.final_layer_norm.bias"] = [32],
    };

    [Fact]
    public void StateDictKeysAndShapesAreTransformersCLIPTextModels()
    {
        using var model = new ClipTextModel(ClipTextConfig.Tiny with { NumHiddenLayers = 1 });
        var stateDict = model.state_dict();
        Assert.Equal(TransformersKeys.Keys.Order(StringComparer.Ordinal), stateDict.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, shape) in TransformersKeys) Assert.Equal(shape, stateDict[key].shape);
    }

    [Fact]
    public void ParametersAreBuiltInTheRequestedDtype()
    {
        using var model = new ClipTextModel(ClipTextConfig.Tiny, TorchSharp.torch.ScalarType.BFloat16);
        Assert.All(model.parameters(), p => Assert.Equal(TorchSharp.torch.ScalarType.BFloat16, p.dtype));
    }

    [Fact]
    public void TransformersKeysMapToThemselves()
    {
        foreach (var (key, shape) in TransformersKeys)
            Assert.Equal([new TensorPlacement(key)], ClipCheckpointNames.MapHuggingFaceKey(key, shape)!);
        Assert.Equal(
            [new TensorPlacement("text_model.encoder.layers.11.mlp.fc2.bias")],
            ClipCheckpointNames.MapHuggingFaceKey("text_model.encoder.layers.11.mlp.fc2.bias", [768])!);
    }

    [Fact]
    public void PositionIdsAreSkippedAndUnknownKeysRejected()
    {
        Assert.Empty(ClipCheckpointNames.MapHuggingFaceKey("text_model.embeddings.position_ids", [1, 77])!);
        Assert.Null(ClipCheckpointNames.MapHuggingFaceKey("text_projection.weight", [768, 768]));
        Assert.Null(ClipCheckpointNames.MapHuggingFaceKey("text_model.encoder.layers.0.self_attn.qkv.weight", [96, 32]));
        Assert.Null(ClipCheckpointNames.MapHuggingFaceKey("text_model.encoder.layers.01.mlp.fc1.weight", [64, 32]));
        Assert.Null(ClipCheckpointNames.MapHuggingFaceKey("encoder.layers.0.mlp.fc1.weight", [64, 32]));
    }
}
