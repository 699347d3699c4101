using Glance.Engine.Serving;

namespace Glance.Mini.World;

/// <summary>Which attributes of one intended scene the detector found in its image.</summary>
public sealed record AttributeMatch(bool Shape, bool Colour, bool Position, bool Size, bool Background)
{
    /// <summary>Shape, colour and position: the combination the held-out split is about.</summary>
    public bool Triple => Shape && Colour && Position;

    public bool All => Triple && Size && Background;
}

/// <summary>Fractions of images whose attribute the detector read as intended.</summary>
public sealed record SceneScore(
    int Count, double Shape, double Colour, double Position, double Size, double Background, double Triple, double AllCorrect)
{
    public override string ToString() =>
        $"n={Count} shape={Shape:P1} colour={Colour:P1} position={Position:P1} size={Size:P1} " +
        $"background={Background:P1} triple={Triple:P1} all={AllCorrect:P1}";
}

/// <summary>Scores images against the scenes they were meant to show, using <see cref="SceneDetector"/>.</summary>
public static class SceneEvaluator
{
    public static AttributeMatch Compare(SceneSpec scene, DetectedScene detected)
    {
        ArgumentNullException.ThrowIfNull(scene);
        ArgumentNullException.ThrowIfNull(detected);
        return new AttributeMatch(
            detected.Shape == scene.Shape,
            detected.Colour == scene.Colour,
            detected.Position == scene.Position,
            detected.Size == scene.Size,
            detected.Background == scene.Background);
    }

    public static SceneScore Score(IEnumerable<(SceneSpec Scene, DecodedImage Image)> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        return Summarize([.. pairs.Select(p => Compare(p.Scene, SceneDetector.Detect(p.Image)))]);
    }

    public static SceneScore Summarize(IReadOnlyList<AttributeMatch> matches)
    {
        ArgumentNullException.ThrowIfNull(matches);
        if (matches.Count == 0)
            return new SceneScore(0, 0, 0, 0, 0, 0, 0, 0);
        double Fraction(Func<AttributeMatch, bool> correct) => matches.Count(correct) / (double)matches.Count;
        return new SceneScore(
            matches.Count,
            Fraction(m => m.Shape), Fraction(m => m.Colour), Fraction(m => m.Position),
            Fraction(m => m.Size), Fraction(m => m.Background), Fraction(m => m.Triple), Fraction(m => m.All));
    }
}
