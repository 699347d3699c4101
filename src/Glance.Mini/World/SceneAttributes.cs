namespace Glance.Mini.World;

// The attribute sets of the glance-mini world. Enum order is part of the world's definition:
// the held-out rule and the sampler index into these in declaration order.

public enum SceneShape { Circle, Square, Triangle, Cross }

public enum SceneColour { Red, Green, Blue, Yellow, Magenta, Cyan, Orange, White }

/// <summary>Cell of a 3x3 grid, row-major from the top left.</summary>
public enum ScenePosition { TopLeft, Top, TopRight, Left, Center, Right, BottomLeft, Bottom, BottomRight }

public enum SceneSize { Small, Large }

public enum SceneBackground { Black, Gray }
