using System.Numerics.Tensors;

namespace Recommender.Model.Nn;

/// <summary>Layer normalisation over the last axis: (x - mean) / sqrt(var + eps) * weight + bias, biased variance.</summary>
public static class LayerNorm
{
    public const float Epsilon = 1e-5f;

    /// <summary>Normalises <paramref name="rows"/> rows of width <paramref name="width"/>; keeps x̂ and 1/σ per row for the backward pass.</summary>
    public static void Forward(ReadOnlySpan<float> x, int rows, int width, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        Span<float> y, Span<float> xhat, Span<float> rstd)
    {
        for (var r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * width, width);
            var hr = xhat.Slice(r * width, width);
            var mean = TensorPrimitives.Sum(xr) / width;
            TensorPrimitives.Subtract(xr, mean, hr);
            var variance = TensorPrimitives.SumOfSquares(hr) / width;
            var inv = 1f / MathF.Sqrt(variance + Epsilon);
            rstd[r] = inv;
            TensorPrimitives.Multiply(hr, inv, hr);
            TensorPrimitives.FusedMultiplyAdd(hr, weight, bias, y.Slice(r * width, width));
        }
    }

    /// <summary>
    /// dx (= or +=) rstd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)) with dx̂ = dy · weight; accumulates the weight and bias gradients.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> xhat, ReadOnlySpan<float> rstd, int rows, int width,
        ReadOnlySpan<float> weight, Span<float> dx, bool accumulate, Span<float> dWeight, Span<float> dBias, Span<float> scratch)
    {
        var dxhat = scratch[..width];
        for (var r = 0; r < rows; r++)
        {
            var dyr = dy.Slice(r * width, width);
            var hr = xhat.Slice(r * width, width);
            TensorPrimitives.FusedMultiplyAdd(dyr, hr, dWeight, dWeight);
            TensorPrimitives.Add(dBias, dyr, dBias);
            TensorPrimitives.Multiply(dyr, weight, dxhat);
            var meanD = TensorPrimitives.Sum(dxhat) / width;
            var meanDx = TensorPrimitives.Dot(dxhat, hr) / width;
            var dxr = dx.Slice(r * width, width);
            var inv = rstd[r];
            // dx = inv * (dxhat - meanD) - inv * meanDx * xhat
            TensorPrimitives.Subtract(dxhat, meanD, dxhat);
            TensorPrimitives.MultiplyAdd(hr, -meanDx, dxhat, dxhat);
            if (accumulate) TensorPrimitives.MultiplyAdd(dxhat, inv, dxr, dxr);
            else TensorPrimitives.Multiply(dxhat, inv, dxr);
        }
    }
}
