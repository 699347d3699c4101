using Glance.Api.Tests.Fakes;
using Glance.Api.Training;
using Glance.Engine.Imaging;
using Glance.Engine.Serving;

namespace Glance.Api.Tests.Training;

public sealed class TrainingImageTests
{
    static readonly EngineDescription Flux = new FakeEngine().Description with
    {
        DefaultWidth = 1024, DefaultHeight = 1024, MinSize = 256, MaxSize = 2048, SizeMultiple = 16,
    };

    [Theory]
    [InlineData(1024, 1024, 1024, 1024)]   // the recipe's size stays
    [InlineData(4000, 3000, 1184, 880)]    // area 1024^2: scale 0.29560 -> 1182.4 x 886.8 -> nearest multiples of 16
    [InlineData(100, 50, 512, 256)]        // the short side brought up to the minimum
    [InlineData(800, 600, 800, 608)]       // smaller than the default area: kept, 600 -> nearest multiple of 16
    [InlineData(8000, 100, 2048, 256)]     // a strip: both bounds hold, the aspect gives way
    public void ATrainingImageTakesTheModelsDefaultAreaAtMostInSidesItAccepts(int width, int height, int expectedWidth, int expectedHeight) =>
        Assert.Equal((expectedWidth, expectedHeight), TrainingImage.TrainingSize(width, height, Flux));

    [Fact]
    public void AJpegIsDecodedAndResizedToTheTrainingSize()
    {
        var pixels = new byte[96 * 80 * 3];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i % 3 == 0 ? 200 : 40);
        using var jpeg = new MemoryStream();
        using (var image = SixLabors.ImageSharp.Image.LoadPixelData<SixLabors.ImageSharp.PixelFormats.Rgb24>(pixels, 96, 80))
            SixLabors.ImageSharp.ImageExtensions.SaveAsJpeg(image, jpeg);
        jpeg.Position = 0;
        var small = new FakeEngine().Description with { DefaultWidth = 64, DefaultHeight = 64, MinSize = 32, MaxSize = 256, SizeMultiple = 16 };

        var outcome = TrainingImage.Read(jpeg, 1_000_000, small);

        Assert.NotNull(outcome.Image);
        Assert.Equal((96, 80), (outcome.SourceWidth, outcome.SourceHeight));
        Assert.Equal((64, 64), (outcome.Image!.Width, outcome.Image.Height)); // 96x80 at area 64^2: 70.1 x 58.4, nearest multiples of 16
        Assert.Equal(outcome.Image.Width * outcome.Image.Height * 3, outcome.Image.Rgb.Length);
    }

    [Fact]
    public void APixelCountBeyondTheLimitIsRefusedFromTheHeader()
    {
        using var png = new MemoryStream(PngEncoding.Encode(new DecodedImage(100, 100, new byte[100 * 100 * 3])));
        var outcome = TrainingImage.Read(png, 9_999, new FakeEngine().Description);
        Assert.Null(outcome.Image);
        Assert.Equal(422, outcome.Status);
        Assert.Contains("100x100", outcome.Problem, StringComparison.Ordinal);
    }
}
