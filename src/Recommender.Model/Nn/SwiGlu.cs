using System.Numerics.Tensors;

namespace Recommender.Model.Nn;

/// <summary>
/// The gated feed-forward unit of SwiGLU: the first layer is twice as wide, and each row [a | b] of its output becomes
/// a ⊙ SiLU(b), so the layer learns which of its hidden units to let through at each position instead of cutting at zero.
/// </summary>
public static class SwiGlu
{
    /// <summary>y[r, j] = a[r, j] · b[r, j] · σ(b[r, j]) for x[r] = [a | b]; x is [rows, 2·width], y [rows, width].</summary>
    public static void Forward(ReadOnlySpan<float> x, int rows, int width, Span<float> y)
    {
        for (var r = 0; r < rows; r++)
        {
            var a = x.Slice(r * 2 * width, width);
            var b = x.Slice(r * 2 * width + width, width);
            var yr = y.Slice(r * width, width);
            TensorPrimitives.Sigmoid(b, yr);
            TensorPrimitives.Multiply(yr, b, yr);
            TensorPrimitives.Multiply(yr, a, yr);
        }
    }

    /// <summary>dx = [dy ⊙ SiLU(b) | dy ⊙ a ⊙ σ(b)(1 + b(1 − σ(b)))]; dx is [rows, 2·width] and must not overlap dy.</summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int rows, int width, Span<float> dx)
    {
        for (var r = 0; r < rows; r++)
        {
            var a = x.Slice(r * 2 * width, width);
            var b = x.Slice(r * 2 * width + width, width);
            var dyr = dy.Slice(r * width, width);
            var da = dx.Slice(r * 2 * width, width);
            var db = dx.Slice(r * 2 * width + width, width);
            TensorPrimitives.Sigmoid(b, db); // σ(b), kept in db until its last use
            TensorPrimitives.Multiply(db, b, da);
            TensorPrimitives.Multiply(da, dyr, da);
            for (var j = 0; j < width; j++)
            {
                var s = db[j];
                db[j] = dyr[j] * a[j] * s * (1f + b[j] * (1f - s));
            }
        }
    }
}
