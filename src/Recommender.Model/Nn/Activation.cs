namespace Recommender.Model.Nn;

/// <summary>Element-wise non-linearities of the feed-forward layer and their derivatives.</summary>
public static class Activation
{
    private const float GeluC = 0.7978845608028654f; // sqrt(2 / pi)
    private const float GeluA = 0.044715f;

    public static void Forward(bool gelu, ReadOnlySpan<float> x, Span<float> y)
    {
        if (!gelu)
        {
            System.Numerics.Tensors.TensorPrimitives.Max(x, 0f, y);
            return;
        }
        for (var i = 0; i < x.Length; i++)
        {
            var v = x[i];
            y[i] = 0.5f * v * (1f + MathF.Tanh(GeluC * (v + GeluA * v * v * v)));
        }
    }

    /// <summary>dx = act'(x) · dy (dx may alias dy).</summary>
    public static void Backward(bool gelu, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        if (!gelu)
        {
            for (var i = 0; i < x.Length; i++) dx[i] = x[i] > 0f ? dy[i] : 0f;
            return;
        }
        for (var i = 0; i < x.Length; i++)
        {
            var v = x[i];
            var t = MathF.Tanh(GeluC * (v + GeluA * v * v * v));
            var derivative = 0.5f * (1f + t) + 0.5f * v * (1f - t * t) * GeluC * (1f + 3f * GeluA * v * v);
            dx[i] = derivative * dy[i];
        }
    }
}
