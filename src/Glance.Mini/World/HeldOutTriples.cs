namespace Glance.Mini.World;

/// <summary>
/// The held-out (shape, colour, position) combinations: those with (shape + 2*colour + 3*position) mod 7 == 3,
/// using enum declaration indices. That is 42 of the 288 triples (14.6%). Being linear mod 7, the rule holds
/// out at most two of the nine positions for any (shape, colour) pair, at most two of the eight colours for any
/// (shape, position) pair and at most one shape for any (colour, position) pair, so every attribute and every attribute pair is still seen in training; only the
/// combination is new.
/// </summary>
public static class HeldOutTriples
{
    public static bool IsHeldOut(SceneTriple triple) =>
        ((int)triple.Shape + (2 * (int)triple.Colour) + (3 * (int)triple.Position)) % 7 == 3;

    public static IReadOnlyList<SceneTriple> All { get; } = [.. AllTriples().Where(IsHeldOut)];

    public static IReadOnlyList<SceneTriple> Training { get; } = [.. AllTriples().Where(t => !IsHeldOut(t))];

    static IEnumerable<SceneTriple> AllTriples() =>
        from shape in Enum.GetValues<SceneShape>()
        from colour in Enum.GetValues<SceneColour>()
        from position in Enum.GetValues<ScenePosition>()
        select new SceneTriple(shape, colour, position);
}
