using System.Numerics.Tensors;

namespace Recommender.Model.Sasrec;

/// <summary>Row normalisation shared by the cosine-scored model, its loss and its export, so all three agree on the epsilon.</summary>
internal static class CosineScores
{
    /// <summary>Norms below this are treated as this, so a zero row (an empty history) stays zero instead of dividing by zero.</summary>
    public const float MinNorm = 1e-12f;

    /// <summary>Each row of <paramref name="rows"/> ([count, dimension]) becomes row / max(|row|, MinNorm) × <paramref name="scale"/>.</summary>
    public static void NormaliseRows(Span<float> rows, int dimension, float scale)
    {
        for (var start = 0; start < rows.Length; start += dimension)
        {
            var row = rows.Slice(start, dimension);
            TensorPrimitives.Multiply(row, scale / Norm(row), row);
        }
    }

    public static float Norm(ReadOnlySpan<float> row) => MathF.Max(TensorPrimitives.Norm(row), MinNorm);
}
