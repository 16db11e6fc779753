using System.Numerics.Tensors;

namespace Recommender.Model.Nn;

/// <summary>
/// Multi-head causal self-attention over the n real rows of one sequence: row i attends to rows j ≤ i.
/// Padding rows are never materialised: a padded key has score −1e9 in the full formulation, whose
/// softmax weight is exactly zero in float arithmetic, so dropping those rows changes nothing for real rows.
/// Q, K, V and the context are [n, D] row-major; head h uses columns h·dh .. (h+1)·dh − 1.
/// Probabilities are kept per head as [n, stride] rows with <see cref="Stride"/> padding so that the score
/// products run in whole 16-wide vectors; entries right of the diagonal are zero.
/// An optional recency slope w per head adds −w·(i − j) to the scaled score of query i for key j.
/// </summary>
public static class CausalSelfAttention
{
    private const int RowBlock = 16;

    /// <summary>Row stride used for score and probability matrices of n rows.</summary>
    public static int Stride(int n) => (n + 15) & ~15;

    /// <param name="probabilities">[heads, n, Stride(n)]: written (the softmax, before any dropout).</param>
    /// <param name="transposeScratch">At least dh · Stride(n) values.</param>
    /// <param name="dropoutMask">Empty, or [heads, n, Stride(n)] inverted-dropout factors (0 or 1/(1 − rate)) on the attention weights.</param>
    /// <param name="dropped">With a mask: [heads, n, Stride(n)], written with the weights after dropout, which the context is made of.</param>
    /// <param name="recency">Empty, or one recency slope per head.</param>
    public static void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int n, int dimension, int heads,
        Span<float> probabilities, Span<float> context, Span<float> transposeScratch, ReadOnlySpan<float> dropoutMask = default, Span<float> dropped = default,
        ReadOnlySpan<float> recency = default)
    {
        var dh = dimension / heads;
        var ld = Stride(n);
        var scale = 1f / MathF.Sqrt(dh);
        var kt = transposeScratch[..(dh * ld)];
        for (var h = 0; h < heads; h++)
        {
            var col = h * dh;
            TransposeHead(k, n, dimension, col, dh, ld, kt);
            var p = probabilities.Slice(h * n * ld, n * ld);
            for (var i0 = 0; i0 < n; i0 += RowBlock)
            {
                var rows = Math.Min(RowBlock, n - i0);
                var cols = Math.Min(ld, Stride(i0 + rows));
                Gemm.Multiply(rows, cols, dh, q[(i0 * dimension + col)..], dimension, 1, kt, ld, p[(i0 * ld)..], ld, accumulate: false);
            }
            for (var i = 0; i < n; i++)
            {
                var row = p.Slice(i * ld, ld);
                var visible = row[..(i + 1)];
                TensorPrimitives.Multiply(visible, scale, visible);
                if (!recency.IsEmpty)
                {
                    var w = recency[h];
                    for (var j = 0; j <= i; j++) visible[j] -= w * (i - j);
                }
                var max = TensorPrimitives.Max(visible);
                TensorPrimitives.Subtract(visible, max, visible);
                TensorPrimitives.Exp(visible, visible);
                TensorPrimitives.Multiply(visible, 1f / TensorPrimitives.Sum(visible), visible);
                row[(i + 1)..].Clear();
            }
            ReadOnlySpan<float> weights = p;
            if (!dropoutMask.IsEmpty)
            {
                var pd = dropped.Slice(h * n * ld, n * ld);
                TensorPrimitives.Multiply(p, dropoutMask.Slice(h * n * ld, n * ld), pd);
                weights = pd;
            }
            for (var i0 = 0; i0 < n; i0 += RowBlock)
            {
                var rows = Math.Min(RowBlock, n - i0);
                Gemm.Multiply(rows, dh, i0 + rows, weights[(i0 * ld)..], ld, 1, v[col..], dimension, context[(i0 * dimension + col)..], dimension, accumulate: false);
            }
        }
    }

    /// <summary>Writes dQ, dK and dV ([n, D]) from the context gradient.</summary>
    /// <param name="scratch">At least n · Stride(n) + dh · Stride(n) values.</param>
    /// <param name="dropoutMask">The forward pass's attention-weight dropout factors, or empty.</param>
    /// <param name="dropped">The forward pass's weights after dropout, or empty.</param>
    /// <param name="dRecency">Empty, or one value per head to which the recency slopes' gradient is added.</param>
    public static void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> probabilities,
        ReadOnlySpan<float> dContext, int n, int dimension, int heads, Span<float> dq, Span<float> dk, Span<float> dv, Span<float> scratch,
        ReadOnlySpan<float> dropoutMask = default, ReadOnlySpan<float> dropped = default, Span<float> dRecency = default)
    {
        var dh = dimension / heads;
        var ld = Stride(n);
        var scale = 1f / MathF.Sqrt(dh);
        var ds = scratch[..(n * ld)];
        var vt = scratch.Slice(n * ld, dh * ld);
        for (var h = 0; h < heads; h++)
        {
            var col = h * dh;
            var p = probabilities.Slice(h * n * ld, n * ld);
            var mask = dropoutMask.IsEmpty ? default : dropoutMask.Slice(h * n * ld, n * ld);
            var weights = dropoutMask.IsEmpty ? p : dropped.Slice(h * n * ld, n * ld);
            TransposeHead(v, n, dimension, col, dh, ld, vt);
            // dP = dC · Vᵀ on the causal part.
            for (var i0 = 0; i0 < n; i0 += RowBlock)
            {
                var rows = Math.Min(RowBlock, n - i0);
                var cols = Math.Min(ld, Stride(i0 + rows));
                Gemm.Multiply(rows, cols, dh, dContext[(i0 * dimension + col)..], dimension, 1, vt, ld, ds[(i0 * ld)..], ld, accumulate: false);
            }
            // Through the dropout (dP = dP' ⊙ mask), then softmax backward: dS = P ⊙ (dP − Σ P·dP), with the 1/√dh of the scores folded in.
            for (var i = 0; i < n; i++)
            {
                var prow = p.Slice(i * ld, i + 1);
                var drow = ds.Slice(i * ld, i + 1);
                if (!mask.IsEmpty) TensorPrimitives.Multiply(drow, mask.Slice(i * ld, i + 1), drow);
                var dot = TensorPrimitives.Dot(prow, drow);
                TensorPrimitives.Subtract(drow, dot, drow);
                TensorPrimitives.Multiply(drow, prow, drow);
                if (!dRecency.IsEmpty)
                {
                    // d(score_ij)/dw = −(i − j).
                    var g = 0.0;
                    for (var j = 0; j < i; j++) g -= (double)drow[j] * (i - j);
                    dRecency[h] += (float)g;
                }
                TensorPrimitives.Multiply(drow, scale, drow);
                ds.Slice(i * ld + i + 1, ld - i - 1).Clear();
            }
            for (var i0 = 0; i0 < n; i0 += RowBlock)
            {
                var rows = Math.Min(RowBlock, n - i0);
                // dQ_i = Σ_{j ≤ i} dS_ij K_j
                Gemm.Multiply(rows, dh, i0 + rows, ds[(i0 * ld)..], ld, 1, k[col..], dimension, dq[(i0 * dimension + col)..], dimension, accumulate: false);
                // dK_j = Σ_{i ≥ j} dS_ij Q_i and dV_j = Σ_{i ≥ j} P_ij dC_i (A read transposed, starting at the diagonal).
                Gemm.Multiply(rows, dh, n - i0, ds[(i0 * ld + i0)..], 1, ld, q[(i0 * dimension + col)..], dimension, dk[(i0 * dimension + col)..], dimension, accumulate: false);
                Gemm.Multiply(rows, dh, n - i0, weights[(i0 * ld + i0)..], 1, ld, dContext[(i0 * dimension + col)..], dimension, dv[(i0 * dimension + col)..], dimension, accumulate: false);
            }
        }
    }

    /// <summary>[dh, ld] transpose of one head's columns, zero beyond row n so that padded score columns come out zero.</summary>
    private static void TransposeHead(ReadOnlySpan<float> x, int n, int dimension, int col, int dh, int ld, Span<float> destination)
    {
        for (var c = 0; c < dh; c++)
        {
            var dst = destination.Slice(c * ld, ld);
            for (var j = 0; j < n; j++) dst[j] = x[j * dimension + col + c];
            dst[n..].Clear();
        }
    }
}
