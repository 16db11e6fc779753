using System.Numerics.Tensors;

namespace Recommender.Model.Nn;

/// <summary>Inverted dropout: kept units are scaled by 1/(1 - rate) so that evaluation needs no rescaling.</summary>
public static class Dropout
{
    /// <summary>Fills <paramref name="mask"/> with 0 (dropped) or 1/(1 - rate) (kept) and multiplies <paramref name="x"/> by it in place.</summary>
    public static void Apply(Span<float> x, Span<float> mask, float rate, ref SplitMix rng)
    {
        var keep = 1f / (1f - rate);
        for (var i = 0; i < mask.Length; i++) mask[i] = rng.NextFloat() < rate ? 0f : keep;
        TensorPrimitives.Multiply(x, mask, x);
    }

    /// <summary>Gradient through the same mask, in place.</summary>
    public static void Backward(Span<float> dy, ReadOnlySpan<float> mask) => TensorPrimitives.Multiply(dy, mask, dy);
}
