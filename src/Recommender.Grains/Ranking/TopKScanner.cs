using System.Buffers;
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
    private static readonly Comparison<int> LowerRowFirst = static (a, b) => a.CompareTo(b);

    /// <summary>
    /// The <paramref name="k"/> best rows by dot product with <paramref name="query"/>, best first; rows in
    /// <paramref name="excluded"/> are skipped and, when <paramref name="allowed"/> is given, only those rows are
    /// kept (a filter applied during the scan, so k rows still come back when that many pass). Equal scores are
    /// ordered by <paramref name="tieBreak"/> (negative: the first row ranks higher; default: the lower row). Rows in
    /// <paramref name="hidden"/> and in <paramref name="unlisted"/> are skipped like excluded ones (separate sets, so none has
    /// to be copied into another). <paramref name="admits"/>, when given, is a last test of a row that would enter the
    /// heap (a filter too costly to hold as a set, such as tags a row must not carry); it is asked of those rows only.
    /// <paramref name="boost"/>, when given, is added to a row's dot product (the scores returned include it); no row's
    /// boost may exceed <paramref name="maxBoost"/>, which lets a row whose dot product cannot reach the heap even so
    /// be passed over without asking. When <paramref name="allowed"/> holds at most an eighth of the rows, only its
    /// rows are scored, so a scan within a small tag costs what the tag's rows cost rather than the whole matrix.
    /// </summary>
    public static RowScore[] Scan(ReadOnlySpan<float> matrix, int dimension, int rows, ReadOnlySpan<float> query, int k,
        IReadOnlySet<int>? excluded = null, IReadOnlySet<int>? allowed = null, Comparison<int>? tieBreak = null, IReadOnlySet<int>? hidden = null,
        IReadOnlySet<int>? unlisted = null, Func<int, bool>? admits = null, Func<int, float>? boost = null, float maxBoost = 0)
    {
        if (boost is not null && !(maxBoost >= 0 && float.IsFinite(maxBoost)))
            throw new ArgumentOutOfRangeException(nameof(maxBoost), maxBoost, "The largest boost must be finite and at least 0.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (query.Length != dimension) throw new ArgumentException($"Query has {query.Length} values; the rows have {dimension}.", nameof(query));
        if (matrix.Length < (long)rows * dimension) throw new ArgumentException($"Matrix holds {matrix.Length} values, fewer than {rows} x {dimension}.", nameof(matrix));
        if (k == 0 || rows == 0) return [];
        tieBreak ??= LowerRowFirst;

        // The heap's root is the weakest kept candidate. Once the heap is full a row must beat the root to enter:
        // one comparison with its score is all most rows cost beyond their dot product (filters are checked only then).
        // Sized for what the rows can fill: a capped list's deeper scans ask for more than a shard holds.
        var heap = new PriorityQueue<int, RowScore>(Math.Min(k, rows) + 1, new WeakestFirst(tieBreak));
        var threshold = float.NegativeInfinity;
        var weakestRow = -1;
        // A small allowed set is walked instead of the matrix, in the set's own order (the tie-break, not the order, settles
        // ties). Only a small one: reading a quarter of the rows or more out of order took longer than reading them all.
        int[]? subset = null;
        var count = rows;
        if (allowed is not null && (long)allowed.Count * 8 <= rows)
        {
            subset = ArrayPool<int>.Shared.Rent(Math.Max(1, allowed.Count));
            count = 0;
            foreach (var row in allowed)
                if ((uint)row < (uint)rows) subset[count++] = row;
        }
        for (var i = 0; i < count; i++)
        {
            var row = subset is null ? i : subset[i];
            var score = TensorPrimitives.Dot(matrix.Slice(row * dimension, dimension), query);
            var full = heap.Count == k;
            if (boost is not null)
            {
                if (full && score + maxBoost < threshold) continue;
                score += boost(row);
            }
            if (full)
            {
                if (!(score >= threshold)) continue;
                if (score == threshold && tieBreak(row, weakestRow) >= 0) continue;
            }
            else if (float.IsNaN(score)) continue;
            if (excluded is not null && excluded.Contains(row)) continue;
            if (hidden is not null && hidden.Contains(row)) continue;
            if (unlisted is not null && unlisted.Contains(row)) continue;
            if (subset is null && allowed is not null && !allowed.Contains(row)) continue;
            if (admits is not null && !admits(row)) continue;
            if (full) heap.DequeueEnqueue(row, new RowScore(row, score));
            else heap.Enqueue(row, new RowScore(row, score));
            if (heap.Count == k && heap.TryPeek(out _, out var weakest)) (threshold, weakestRow) = (weakest.Score, weakest.Row);
        }
        if (subset is not null) ArrayPool<int>.Shared.Return(subset);

        var result = new RowScore[heap.Count];
        for (var i = result.Length - 1; i >= 0; i--)
        {
            heap.TryDequeue(out _, out var entry);
            result[i] = entry;
        }
        return result;
    }

    /// <summary>Orders candidates from weakest to strongest: lower score first, and among equal scores the one ranked last.</summary>
    private sealed class WeakestFirst(Comparison<int> tieBreak) : IComparer<RowScore>
    {
        public int Compare(RowScore x, RowScore y)
        {
            var byScore = x.Score.CompareTo(y.Score);
            return byScore != 0 ? byScore : tieBreak(y.Row, x.Row);
        }
    }
}
