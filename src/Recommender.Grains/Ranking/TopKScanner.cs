using System.Numerics.Tensors;

namespace Recommender.Grains.Ranking;

/// <summary>A row and its score against a query.</summary>
public readonly record struct RowScore(int Row, float Score);

/// <summary>
/// Exact top-K over a row-major matrix: one SIMD dot product per row (TensorPrimitives) and a min-heap of at most
/// K entries, so memory stays O(K) whatever the number of rows.
/// </summary>
public static class TopKScanner
{
    /// <summary>The <paramref name="k"/> best rows by dot product with <paramref name="query"/>, best first; rows in <paramref name="excluded"/> are skipped. Ties go to the lower row.</summary>
    public static RowScore[] Scan(ReadOnlySpan<float> matrix, int dimension, int rows, ReadOnlySpan<float> query, int k, IReadOnlySet<int>? excluded = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (query.Length != dimension) throw new ArgumentException($"Query has {query.Length} values; the rows have {dimension}.", nameof(query));
        if (matrix.Length < (long)rows * dimension) throw new ArgumentException($"Matrix holds {matrix.Length} values, fewer than {rows} x {dimension}.", nameof(matrix));
        if (k == 0 || rows == 0) return [];

        // The heap's root is the weakest kept candidate: the lowest score, and among equal scores the highest row.
        var heap = new PriorityQueue<int, RowScore>(k + 1, WeakestFirst.Instance);
        for (var row = 0; row < rows; row++)
        {
            if (excluded is not null && excluded.Contains(row)) continue;
            var score = TensorPrimitives.Dot(matrix.Slice(row * dimension, dimension), query);
            if (float.IsNaN(score)) continue;
            var candidate = new RowScore(row, score);
            if (heap.Count < k) heap.Enqueue(row, candidate);
            else if (heap.TryPeek(out _, out var weakest) && WeakestFirst.Instance.Compare(candidate, weakest) > 0)
                heap.DequeueEnqueue(row, candidate);
        }

        var result = new RowScore[heap.Count];
        for (var i = result.Length - 1; i >= 0; i--)
        {
            heap.TryDequeue(out _, out var entry);
            result[i] = entry;
        }
        return result;
    }

    /// <summary>Orders candidates from weakest to strongest.</summary>
    private sealed class WeakestFirst : IComparer<RowScore>
    {
        public static readonly WeakestFirst Instance = new();

        public int Compare(RowScore x, RowScore y)
        {
            var byScore = x.Score.CompareTo(y.Score);
            return byScore != 0 ? byScore : y.Row.CompareTo(x.Row);
        }
    }
}
