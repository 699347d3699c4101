namespace Glance.Mini.World;

/// <summary>
/// SplitMix64: a tiny PRNG whose output is fixed by its definition, unlike System.Random's, so a scene's
/// identity (seed, split, index) maps to the same image on every runtime.
/// </summary>
public struct SceneRandom(ulong state)
{
    ulong _state = state;

    public static SceneRandom For(ulong seed, SceneSplit split, long index)
    {
        var mixed = Mix(seed);
        mixed = Mix(mixed ^ (0x5851F42D4C957F2DUL * ((ulong)split + 1)));
        mixed = Mix(mixed ^ (ulong)index);
        return new SceneRandom(mixed);
    }

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, count); the modulo bias is below 2^-50 for the small counts used here.</summary>
    public int NextInt(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return (int)(NextUInt64() % (ulong)count);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public double NextDouble(double min, double max) => min + ((max - min) * NextDouble());

    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
