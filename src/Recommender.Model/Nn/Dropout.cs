using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Recommender.Model.Nn;

/// <summary>Inverted dropout: kept units are scaled by 1/(1 - rate) so that evaluation needs no rescaling.</summary>
public static class Dropout
{
    /// <summary>Fills <paramref name="mask"/> with 0 (dropped) or 1/(1 - rate) (kept) and multiplies <paramref name="x"/> by it in place.</summary>
    public static void Apply(Span<float> x, Span<float> mask, float rate, ref SplitMix rng)
    {
        Fill(mask, rate, ref rng);
        TensorPrimitives.Multiply(x, mask, x);
    }

    /// <summary>Fills <paramref name="mask"/> with 0 where a uniform draw falls below <paramref name="rate"/> and 1/(1 - rate) elsewhere.</summary>
    public static void Fill(Span<float> mask, float rate, ref SplitMix rng)
    {
        var keep = 1f / (1f - rate);
        rng.NextFloats(mask);
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var rates = Vector512.Create(rate);
            var keeps = Vector512.Create(keep);
            for (; i + 16 <= mask.Length; i += 16)
            {
                var dropped = Vector512.LessThan(Vector512.LoadUnsafe(ref mask[i]), rates);
                Vector512.ConditionalSelect(dropped, Vector512<float>.Zero, keeps).StoreUnsafe(ref mask[i]);
            }
        }
        for (; i < mask.Length; i++) mask[i] = mask[i] < rate ? 0f : keep;
    }

    /// <summary>Gradient through the same mask, in place.</summary>
    public static void Backward(Span<float> dy, ReadOnlySpan<float> mask) => TensorPrimitives.Multiply(dy, mask, dy);
}
