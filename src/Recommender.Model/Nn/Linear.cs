using System.Numerics.Tensors;

namespace Recommender.Model.Nn;

/// <summary>Affine layer y = x · W + b with W stored [in, out] row-major.</summary>
public static class Linear
{
    public static void Forward(ReadOnlySpan<float> x, int rows, int inputs, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, int outputs)
    {
        for (var r = 0; r < rows; r++) bias.CopyTo(y.Slice(r * outputs, outputs));
        Gemm.Multiply(rows, outputs, inputs, x, inputs, 1, weight, outputs, y, outputs, accumulate: true);
    }

    /// <summary>
    /// Accumulates dW += xᵀ · dy and db += Σ dy; writes (or adds, when <paramref name="accumulateInput"/>) dx = dy · Wᵀ.
    /// <paramref name="weightTransposed"/> is W laid out [out, in]; pass an empty span to skip dx.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int rows, int inputs, int outputs,
        ReadOnlySpan<float> weightTransposed, Span<float> dx, bool accumulateInput, Span<float> dWeight, Span<float> dBias)
    {
        Gemm.Multiply(inputs, outputs, rows, x, 1, inputs, dy, outputs, dWeight, outputs, accumulate: true);
        for (var r = 0; r < rows; r++) TensorPrimitives.Add(dBias, dy.Slice(r * outputs, outputs), dBias);
        if (!weightTransposed.IsEmpty)
            Gemm.Multiply(rows, inputs, outputs, dy, outputs, 1, weightTransposed, inputs, dx, inputs, accumulateInput);
    }

    /// <summary>Writes the [cols, rows] transpose of a row-major [rows, cols] matrix.</summary>
    public static void Transpose(ReadOnlySpan<float> source, int rows, int cols, Span<float> destination)
    {
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++)
                destination[c * rows + r] = source[r * cols + c];
    }
}
