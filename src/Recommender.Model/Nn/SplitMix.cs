using System.Runtime.Intrinsics;

namespace Recommender.Model.Nn;

/// <summary>
/// SplitMix64: a tiny, fast generator whose stream depends only on its seed, so that every random
/// choice in training (initialisation, shuffling, negatives, dropout) can be derived from
/// (seed, epoch, batch, row) and replayed exactly on resume or on another thread.
/// </summary>
public struct SplitMix(ulong seed)
{
    private ulong _state = seed;

    /// <summary>A generator for a stream identified by several integers (e.g. seed, epoch, batch, row).</summary>
    public static SplitMix For(long seed, long a = 0, long b = 0, long c = 0)
    {
        var s = new SplitMix((ulong)seed);
        var mixed = s.NextUInt64() ^ Mix((ulong)a + Gamma);
        mixed = Mix(mixed ^ Mix((ulong)b + MixMultiplier1));
        mixed = Mix(mixed ^ Mix((ulong)c + MixMultiplier2));
        return new SplitMix(mixed);
    }

    public ulong NextUInt64()
    {
        _state += Gamma;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1) with 24 random bits.</summary>
    public float NextFloat() => (NextUInt64() >> 40) * FloatUnit;

    /// <summary>
    /// Fills <paramref name="values"/> with the next <c>values.Length</c> results of <see cref="NextFloat"/>, in order,
    /// and advances the generator past them. The state is a counter, so draw i is Mix(state + (i + 1)·γ) and sixteen
    /// draws are computed side by side: dropout masks cost a fraction of drawing one value at a time.
    /// </summary>
    public void NextFloats(Span<float> values)
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var lane = Vector512.Create(1UL, 2, 3, 4, 5, 6, 7, 8) * Gamma;
            var unit = Vector512.Create(FloatUnit);
            for (; i + 16 <= values.Length; i += 16)
            {
                var low = Mix(Vector512.Create(_state + (ulong)i * Gamma) + lane);
                var high = Mix(Vector512.Create(_state + (ulong)(i + 8) * Gamma) + lane);
                var bits = Vector512.Narrow(Vector512.ShiftRightLogical(low, 40), Vector512.ShiftRightLogical(high, 40));
                (Vector512.ConvertToSingle(bits) * unit).StoreUnsafe(ref values[i]);
            }
            _state += (ulong)i * Gamma;
        }
        for (; i < values.Length; i++) values[i] = NextFloat();
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, bound) (multiply-shift; the bias is below 2^-32 for the bounds used here).</summary>
    public int NextInt(int bound) => (int)(((NextUInt64() >> 32) * (ulong)bound) >> 32);

    /// <summary>Standard normal by Box–Muller.</summary>
    public double NextGaussian()
    {
        var u1 = 1.0 - NextDouble();
        var u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    private const ulong Gamma = 0x9E3779B97F4A7C15UL;
    private const ulong MixMultiplier1 = 0xBF58476D1CE4E5B9UL;
    private const ulong MixMultiplier2 = 0x94D049BB133111EBUL;
    private const float FloatUnit = 1f / (1 << 24);

    // The scalar finaliser below, on eight states at once.
    private static Vector512<ulong> Mix(Vector512<ulong> z)
    {
        z = (z ^ Vector512.ShiftRightLogical(z, 30)) * MixMultiplier1;
        z = (z ^ Vector512.ShiftRightLogical(z, 27)) * MixMultiplier2;
        return z ^ Vector512.ShiftRightLogical(z, 31);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * MixMultiplier1;
        z = (z ^ (z >> 27)) * MixMultiplier2;
        return z ^ (z >> 31);
    }
}
