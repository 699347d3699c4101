using Glance.Engine.Models.Qwen;
using Glance.Engine.Tests.Reference;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Qwen;

/// <summary>
/// The language model against <see cref="Qwen25TextReference"/>, float64 loops written from transformers'
/// modeling_qwen2_5_vl.py (multimodal rotary with three equal text position axes, repeat_kv grouping, padding masked
/// as keys), and its padding contract: a token's output does not depend on padding, and padding never gives NaN.
/// </summary>
public sealed class Qwen25VLTextModelTests
{
    // Three prompts of unequal lengths (9, 5 and 2 tokens), padded to 9 with id 0.
    static readonly long[][] Prompts =
    [
        [5, 17, 3, 22, 9, 9, 31, 14, 27],
        [7, 26, 13, 33, 2],
        [40, 12],
    ];

    const int Length = 9;

    static (long[][] Ids, long[][] Mask) Padded(bool left)
    {
        var ids = new long[Prompts.Length][];
        var mask = new long[Prompts.Length][];
        for (int b = 0; b < Prompts.Length; b++)
        {
            int pads = Length - Prompts[b].Length;
            var padIds = Enumerable.Repeat(0L, pads);
            var tokenMask = Enumerable.Repeat(1L, Prompts[b].Length);
            var padMask = Enumerable.Repeat(0L, pads);
            ids[b] = left ? [.. padIds, .. Prompts[b]] : [.. Prompts[b], .. padIds];
            mask[b] = left ? [.. padMask, .. tokenMask] : [.. tokenMask, .. padMask];
        }
        return (ids, mask);
    }

    static Tensor Batch(long[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);

    static Qwen25TextReference Reference(Qwen25VLTextModel model) =>
        new(TinyQwen.ReleasedKeys(model), TinyQwen.Config.NumHeads, TinyQwen.Config.NumKeyValueHeads, TinyQwen.MropeSection,
            TinyQwen.Config.RopeTheta, TinyQwen.Config.RmsNormEps);

    /// <summary>Largest |expected - actual| over the token rows (null expected rows are padding and skipped) and the largest |expected|.</summary>
    static (double Worst, double Largest) Compare(double[]?[] expected, double[][] actual)
    {
        double worst = 0, largest = 0;
        for (int t = 0; t < expected.Length; t++)
        {
            if (expected[t] is not { } row) continue;
            for (int j = 0; j < row.Length; j++)
            {
                worst = Math.Max(worst, Math.Abs(row[j] - actual[t][j]));
                largest = Math.Max(largest, Math.Abs(row[j]));
            }
        }
        return (worst, largest);
    }

    /// <summary>
    /// float32 keeps about 7 digits; through two layers the model stays within about 1e-6 of the outputs' scale, while a
    /// wrong head grouping, interleaved rotary pairs, a missing bias, positions counted over padding or an attended
    /// padding key moves outputs by far more than the 1e-5 allowed.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PaddedBatchMatchesAFloat64ReferenceOfTransformers(bool leftPadding)
    {
        using var scope = NewDisposeScope();
        using var model = TinyQwen.Model(seed: 41);
        using var noGrad = no_grad();
        var (ids, mask) = Padded(leftPadding);
        var actual = model.Forward(Batch(ids), Batch(mask));
        Assert.Equal(new long[] { 3, Length, 32 }, actual.shape);

        var reference = Reference(model);
        for (int b = 0; b < ids.Length; b++)
        {
            var (worst, largest) = Compare(reference.Forward(ids[b], mask[b]), TensorRows.Of(actual[b]));
            Assert.True(worst <= 1e-5 * largest, $"row {b}: largest difference {worst:E2} against outputs up to {largest:E2}");
        }
    }

    [Fact]
    public void UnmaskedBatchMatchesTheReference()
    {
        using var scope = NewDisposeScope();
        using var model = TinyQwen.Model(seed: 42);
        using var noGrad = no_grad();
        long[][] ids = [Prompts[0], [.. Prompts[0].Reverse()]];
        var actual = model.Forward(Batch(ids), null);

        var reference = Reference(model);
        for (int b = 0; b < ids.Length; b++)
        {
            var (worst, largest) = Compare(reference.Forward(ids[b]), TensorRows.Of(actual[b]));
            Assert.True(worst <= 1e-5 * largest, $"row {b}: largest difference {worst:E2} against outputs up to {largest:E2}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PaddingDoesNotChangeATokensOutput(bool leftPadding)
    {
        using var scope = NewDisposeScope();
        using var model = TinyQwen.Model(seed: 43);
        using var noGrad = no_grad();
        var (ids, mask) = Padded(leftPadding);
        var batched = model.Forward(Batch(ids), Batch(mask));
        for (int b = 0; b < Prompts.Length; b++)
        {
            var alone = TensorRows.Of(model.Forward(Batch([Prompts[b]]), null)[0]);
            int offset = leftPadding ? Length - Prompts[b].Length : 0;
            var inBatch = TensorRows.Of(batched[b].narrow(0, offset, Prompts[b].Length));
            var (worst, largest) = Compare(alone, inBatch);
            Assert.True(worst <= 1e-6 * largest, $"prompt {b}: padded outputs differ from the prompt alone by {worst:E2} (outputs up to {largest:E2})");
        }
    }

    /// <summary>Guards the two tests above: unmasked left padding does move the tokens, well beyond their tolerances.</summary>
    [Fact]
    public void UnmaskedLeftPaddingWouldChangeTheTokens()
    {
        using var scope = NewDisposeScope();
        using var model = TinyQwen.Model(seed: 43);
        var (ids, mask) = Padded(left: true);
        var reference = Reference(model);
        var masked = reference.Forward(ids[1], mask[1]);
        var unmasked = reference.Forward(ids[1]);
        var (difference, largest) = Compare(masked, [.. unmasked.Select(r => r!)]);
        Assert.True(difference > 1e-2 * largest, $"padding moved the tokens by only {difference:E2} (outputs up to {largest:E2})");
    }

    /// <summary>
    /// Left padding leaves padding queries with no token before them; they attend to themselves, so no softmax row is
    /// empty. A row that is all padding is finite too. (On this CPU the kernel would also survive empty rows; the mask
    /// test above pins the formulation.)
    /// </summary>
    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void LeftPaddingGivesNoNaNAnywhere(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var model = TinyQwen.Model(seed: 44, dtype);
        using var noGrad = no_grad();
        var (ids, mask) = Padded(left: true);
        long[][] allIds = [.. ids, new long[Length]];
        long[][] allMask = [.. mask, new long[Length]];
        var output = model.Forward(Batch(allIds), Batch(allMask));
        Assert.Equal(dtype, output.dtype);
        using var finite = output.isfinite().all();
        Assert.True(finite.item<bool>(), "the output holds NaN or infinity");
    }

    /// <summary>
    /// The attention mask itself, since libtorch's CPU kernel gives zeros rather than NaN for an empty row and so cannot
    /// show the difference: a token sees the tokens up to itself, a padding query (left: before every token; right:
    /// after them) sees those and itself, and every row allows at least one key.
    /// </summary>
    [Fact]
    public void EveryQueryAttendsToAtLeastOneKeyAndTokensNeverToPadding()
    {
        using var scope = NewDisposeScope();
        var isToken = tensor(new[] { false, false, true, true, true, true, false, false }, [2, 4]);
        var allowed = Qwen25VLTextModel.AllowedKeys(isToken);
        Assert.Equal(new long[] { 2, 1, 4, 4 }, allowed.shape);
        bool[][] left =
        [
            [true, false, false, false],
            [false, true, false, false],
            [false, false, true, false],
            [false, false, true, true],
        ];
        bool[][] right =
        [
            [true, false, false, false],
            [true, true, false, false],
            [true, true, true, false],
            [true, true, false, true],
        ];
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(left[i], allowed[0, 0, i].data<bool>().ToArray());
            Assert.Equal(right[i], allowed[1, 0, i].data<bool>().ToArray());
        }
    }

    [Fact]
    public void TheSevenBillionPresetIsConsistent()
    {
        var config = Qwen25VLTextConfig.Qwen25VL7BInstruct;
        config.Validate();
        Assert.Equal(3584, config.HeadDim * config.NumHeads);
        Assert.Equal(7, config.NumHeads / config.NumKeyValueHeads);
    }

    [Fact]
    public void ValidateNamesTheValueAndWhatIsExpected()
    {
        var heads = Assert.Throws<ArgumentException>(() => (TinyQwen.Config with { NumKeyValueHeads = 3 }).Validate());
        Assert.Contains("NumKeyValueHeads is 3", heads.Message, StringComparison.Ordinal);
        Assert.Contains("divisor of NumHeads (4)", heads.Message, StringComparison.Ordinal);
        var width = Assert.Throws<ArgumentException>(() => (TinyQwen.Config with { HeadDim = 6 }).Validate());
        Assert.Contains("HeadDim is 6", width.Message, StringComparison.Ordinal);
        Assert.Contains("32 / 4", width.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InputsOfTheWrongShapeOrRangeAreRefused()
    {
        using var scope = NewDisposeScope();
        using var model = TinyQwen.Model(seed: 45);
        var ids = Batch([[1, 2, 3]]);
        var mismatch = Assert.Throws<ArgumentException>(() => model.Forward(ids, Batch([[1, 1]])));
        Assert.Contains("[1, 2]", mismatch.Message, StringComparison.Ordinal);
        var range = Assert.Throws<ArgumentException>(() => model.Forward(Batch([[1, 64]]), null));
        Assert.Contains("[0, 64)", range.Message, StringComparison.Ordinal);
        var values = Assert.Throws<ArgumentException>(() => model.Forward(ids, Batch([[1, 2, 1]])));
        Assert.Contains("expected 1 (token) or 0 (padding)", values.Message, StringComparison.Ordinal);
    }
}
