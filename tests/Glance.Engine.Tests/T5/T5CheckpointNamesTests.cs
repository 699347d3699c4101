using Glance.Engine.Checkpoints;
using Glance.Engine.Models.T5;

namespace Glance.Engine.Tests.T5;

public sealed class T5CheckpointNamesTests
{
    [Fact]
    public void EveryKeyOfTheEncoderMapsToItselfWithOneWholePlacement()
    {
        // Three layers, so that a block other than 0 and 1 is named too.
        using var model = new T5Encoder(T5Config.Tiny with { NumLayers = 3 });
        foreach (var (key, tensor) in model.state_dict())
        {
            var placements = T5CheckpointNames.MapHuggingFaceKey(key, tensor.shape);
            Assert.NotNull(placements);
            Assert.Equal([new TensorPlacement(key)], placements);
        }
    }

    [Fact]
    public void TheTiedEmbeddingCopyIsSkippedDeliberately()
    {
        var placements = T5CheckpointNames.MapHuggingFaceKey("encoder.embed_tokens.weight", [32128, 4096]);
        Assert.NotNull(placements);
        Assert.Empty(placements);
    }

    [Theory]
    [InlineData("decoder.block.0.layer.0.SelfAttention.q.weight")] // T5ForConditionalGeneration's decoder
    [InlineData("lm_head.weight")]
    [InlineData("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight")] // UMT5: a table per layer
    [InlineData("encoder.block.0.layer.1.DenseReluDense.wi.weight")] // T5 v1.0's ungated feed-forward
    [InlineData("encoder.block.01.layer.0.SelfAttention.q.weight")]
    [InlineData("encoder.block.0.layer.0.SelfAttention.q.bias")]
    [InlineData("text_encoders.t5xxl.transformer.shared.weight")]
    public void KeysOutsideTheEncoderAreUnknown(string key)
    {
        Assert.Null(T5CheckpointNames.MapHuggingFaceKey(key, [4, 4]));
    }
}
