namespace Glance.Mini.World;

/// <summary>
/// The one fixed caption template of the world, e.g. "a large red circle at the top left on a gray background".
/// Wording is deterministic so a word-level text encoder sees a closed <see cref="Vocabulary"/>.
/// </summary>
public static class SceneCaption
{
    public static string Describe(SceneSpec scene)
    {
        ArgumentNullException.ThrowIfNull(scene);
        return $"a {Word(scene.Size)} {Word(scene.Colour)} {Word(scene.Shape)} at the {Words(scene.Position)} on a {Word(scene.Background)} background";
    }

    public static string Word(SceneShape shape) => shape switch
    {
        SceneShape.Circle => "circle",
        SceneShape.Square => "square",
        SceneShape.Triangle => "triangle",
        SceneShape.Cross => "cross",
        _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, "Not a shape of the world."),
    };

    public static string Word(SceneColour colour) => colour switch
    {
        SceneColour.Red => "red",
        SceneColour.Green => "green",
        SceneColour.Blue => "blue",
        SceneColour.Yellow => "yellow",
        SceneColour.Magenta => "magenta",
        SceneColour.Cyan => "cyan",
        SceneColour.Orange => "orange",
        SceneColour.White => "white",
        _ => throw new ArgumentOutOfRangeException(nameof(colour), colour, "Not a colour of the world."),
    };

    public static string Words(ScenePosition position) => position switch
    {
        ScenePosition.TopLeft => "top left",
        ScenePosition.Top => "top",
        ScenePosition.TopRight => "top right",
        ScenePosition.Left => "left",
        ScenePosition.Center => "center",
        ScenePosition.Right => "right",
        ScenePosition.BottomLeft => "bottom left",
        ScenePosition.Bottom => "bottom",
        ScenePosition.BottomRight => "bottom right",
        _ => throw new ArgumentOutOfRangeException(nameof(position), position, "Not a grid cell of the world."),
    };

    public static string Word(SceneSize size) => size switch
    {
        SceneSize.Small => "small",
        SceneSize.Large => "large",
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, "Not a size of the world."),
    };

    public static string Word(SceneBackground background) => background switch
    {
        SceneBackground.Black => "black",
        SceneBackground.Gray => "gray",
        _ => throw new ArgumentOutOfRangeException(nameof(background), background, "Not a background of the world."),
    };

    /// <summary>Every word any caption uses, each once, in first-use order of the template.</summary>
    public static IReadOnlyList<string> Vocabulary { get; } = BuildVocabulary();

    static string[] BuildVocabulary()
    {
        var words = new List<string> { "a" };
        words.AddRange(Enum.GetValues<SceneSize>().Select(Word));
        words.AddRange(Enum.GetValues<SceneColour>().Select(Word));
        words.AddRange(Enum.GetValues<SceneShape>().Select(Word));
        words.AddRange(["at", "the"]);
        words.AddRange(Enum.GetValues<ScenePosition>().SelectMany(p => Words(p).Split(' ')));
        words.AddRange(["on", "a"]);
        words.AddRange(Enum.GetValues<SceneBackground>().Select(Word));
        words.Add("background");
        return [.. words.Distinct(StringComparer.Ordinal)];
    }
}
