using System.Numerics;
using System.Numerics.Tensors;

namespace Recommender.Model.Nn;

/// <summary>Element-wise non-linearities of the feed-forward layer and their derivatives.</summary>
public static class Activation
{
    private const float GeluC = 0.7978845608028654f; // sqrt(2 / pi)
    private const float GeluA = 0.044715f;

    // GELU works through stack buffers of this many floats so that tanh, its cost, runs as one vectorised pass
    // per chunk while the chunk stays in L1.
    private const int Chunk = 512;

    /// <summary>y = act(x); ReLU, or GELU in its tanh form (what the ONNX export builds).</summary>
    public static void Forward(bool gelu, ReadOnlySpan<float> x, Span<float> y)
    {
        if (!gelu)
        {
            TensorPrimitives.Max(x, 0f, y);
            return;
        }
        Span<float> t = stackalloc float[Chunk];
        for (var start = 0; start < x.Length; start += Chunk)
        {
            var xs = x.Slice(start, Math.Min(Chunk, x.Length - start));
            var ts = GeluTanh(xs, t);
            var ys = y.Slice(start, xs.Length);
            for (var i = 0; i < xs.Length; i++) ys[i] = 0.5f * xs[i] * (1f + ts[i]);
        }
    }

    /// <summary>dx = act'(x) · dy (dx may alias dy).</summary>
    public static void Backward(bool gelu, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        if (!gelu)
        {
            ReluBackward(x, dy, dx);
            return;
        }
        Span<float> t = stackalloc float[Chunk];
        for (var start = 0; start < x.Length; start += Chunk)
        {
            var xs = x.Slice(start, Math.Min(Chunk, x.Length - start));
            var ts = GeluTanh(xs, t);
            var dys = dy.Slice(start, xs.Length);
            var dxs = dx.Slice(start, xs.Length);
            for (var i = 0; i < xs.Length; i++)
            {
                var v = xs[i];
                var th = ts[i];
                var derivative = 0.5f * (1f + th) + 0.5f * v * (1f - th * th) * GeluC * (1f + 3f * GeluA * v * v);
                dxs[i] = derivative * dys[i];
            }
        }
    }

    /// <summary>tanh(c·(x + a·x³)) into the front of <paramref name="buffer"/>, which it returns.</summary>
    private static Span<float> GeluTanh(ReadOnlySpan<float> x, Span<float> buffer)
    {
        var t = buffer[..x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            var v = x[i];
            t[i] = GeluC * (v + GeluA * v * v * v);
        }
        TensorPrimitives.Tanh(t, t);
        return t;
    }

    private static void ReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var width = Vector<float>.Count;
            for (; i <= x.Length - width; i += width)
            {
                var positive = Vector.GreaterThan(new Vector<float>(x.Slice(i, width)), Vector<float>.Zero);
                Vector.ConditionalSelect(positive, new Vector<float>(dy.Slice(i, width)), Vector<float>.Zero).CopyTo(dx.Slice(i, width));
            }
        }
        for (; i < x.Length; i++) dx[i] = x[i] > 0f ? dy[i] : 0f;
    }
}
