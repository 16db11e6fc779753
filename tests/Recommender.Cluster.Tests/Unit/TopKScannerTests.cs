using Recommender.Grains.Ranking;

namespace Recommender.Cluster.Tests.Unit;

public sealed class TopKScannerTests
{
    private static float[] RandomMatrix(Random random, int rows, int dimension) =>
        Enumerable.Range(0, rows * dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

    private static RowScore[] BruteForce(float[] matrix, int dimension, int rows, float[] query, int k, IReadOnlySet<int> excluded)
    {
        var scores = new List<RowScore>();
        for (var r = 0; r < rows; r++)
        {
            if (excluded.Contains(r)) continue;
            double dot = 0;
            for (var d = 0; d < dimension; d++) dot += matrix[r * dimension + d] * query[d];
            scores.Add(new RowScore(r, (float)dot));
        }
        return scores.OrderByDescending(s => s.Score).ThenBy(s => s.Row).Take(k).ToArray();
    }

    [Theory]
    [InlineData(1, 8, 1, 0)]
    [InlineData(500, 64, 10, 50)]
    [InlineData(1000, 37, 100, 0)]
    [InlineData(300, 16, 300, 100)]
    [InlineData(20, 8, 50, 5)]
    public void Top_k_equals_brute_force_with_exclusions(int rows, int dimension, int k, int excludedCount)
    {
        var random = new Random(rows * 31 + dimension);
        var matrix = RandomMatrix(random, rows, dimension);
        var query = RandomMatrix(random, 1, dimension);
        var excluded = Enumerable.Range(0, excludedCount).Select(_ => random.Next(rows)).ToHashSet();

        var fast = TopKScanner.Scan(matrix, dimension, rows, query, k, excluded);
        var slow = BruteForce(matrix, dimension, rows, query, k, excluded);

        Assert.Equal(slow.Select(s => s.Row), fast.Select(s => s.Row));
        for (var i = 0; i < fast.Length; i++) Assert.Equal(slow[i].Score, fast[i].Score, 1e-4f);
        Assert.DoesNotContain(fast, s => excluded.Contains(s.Row));
        Assert.Equal(Math.Min(k, rows - excluded.Count), fast.Length);
    }

    [Theory]
    [InlineData(500, 16, 10, 1.5f)]
    [InlineData(1000, 8, 100, 0.2f)]
    [InlineData(300, 32, 300, 3f)]
    [InlineData(50, 4, 1, 10f)]
    public void Boosted_top_k_equals_brute_force_over_the_boosted_scores(int rows, int dimension, int k, float size)
    {
        // Raised and held-back rows overlapping, so that the scan's early cut (the largest boost) is tested both ways.
        var random = new Random(rows + dimension);
        var matrix = RandomMatrix(random, rows, dimension);
        var query = RandomMatrix(random, 1, dimension);
        var raised = Enumerable.Range(0, rows / 5).Select(_ => random.Next(rows)).ToHashSet();
        var lowered = Enumerable.Range(0, rows / 3).Select(_ => random.Next(rows)).ToHashSet();
        float Boost(int row) => (raised.Contains(row) ? size : 0f) + (lowered.Contains(row) ? -size / 2 : 0f);

        var fast = TopKScanner.Scan(matrix, dimension, rows, query, k, boost: Boost, maxBoost: size);
        var slow = BruteForce(matrix, dimension, rows, query, rows, new HashSet<int>())
            .Select(s => new RowScore(s.Row, s.Score + Boost(s.Row)))
            .OrderByDescending(s => s.Score).ThenBy(s => s.Row).Take(k).ToArray();

        Assert.Equal(slow.Select(s => s.Row), fast.Select(s => s.Row));
        for (var i = 0; i < fast.Length; i++) Assert.Equal(slow[i].Score, fast[i].Score, 1e-4f);
        Assert.Contains(fast, s => raised.Contains(s.Row));
        // The unboosted list differs, or the boosts tested nothing.
        Assert.NotEqual(fast.Select(s => s.Row), TopKScanner.Scan(matrix, dimension, rows, query, k).Select(s => s.Row));
    }

    [Theory]
    [InlineData(1000, 16, 10, 20)]    // a small set: walked
    [InlineData(1000, 16, 10, 125)]   // an eighth of the rows: walked
    [InlineData(1000, 16, 10, 126)]   // more: tested as rows enter the heap
    [InlineData(400, 8, 50, 30)]      // fewer allowed rows than k: walked
    public void Top_k_within_an_allowed_set_equals_brute_force_whether_the_set_is_walked_or_tested(int rows, int dimension, int k, int allowedCount)
    {
        var random = new Random(rows + allowedCount);
        var matrix = RandomMatrix(random, rows, dimension);
        // Rows 0 and 1 tie with every copy of them, so the walk's order must not decide ties.
        for (var copy = 2; copy < rows; copy += 97) Array.Copy(matrix, copy % 2 * dimension, matrix, copy * dimension, dimension);
        var query = RandomMatrix(random, 1, dimension);
        var allowed = new HashSet<int>();
        while (allowed.Count < allowedCount) allowed.Add(random.Next(rows));
        // Rows past the matrix (a set may know rows a scan of fewer rows does not cover) are never returned.
        allowed.UnionWith([rows, rows + 5]);
        allowed.Remove(rows + 5);
        var excluded = allowed.Where((_, i) => i % 7 == 3).ToHashSet();
        var hidden = allowed.Where((_, i) => i % 11 == 5).ToHashSet();
        float Boost(int row) => row % 3 == 0 ? 0.5f : 0f;
        bool Admits(int row) => row % 13 != 0;
        Comparison<int> higherRowFirst = (a, b) => b.CompareTo(a);

        var fast = TopKScanner.Scan(matrix, dimension, rows, query, k, excluded, allowed, higherRowFirst, hidden, admits: Admits, boost: Boost, maxBoost: 0.5f);
        var slow = BruteForce(matrix, dimension, rows, query, rows, new HashSet<int>())
            .Where(s => allowed.Contains(s.Row) && !excluded.Contains(s.Row) && !hidden.Contains(s.Row) && Admits(s.Row))
            .Select(s => new RowScore(s.Row, s.Score + Boost(s.Row)))
            .OrderByDescending(s => s.Score).ThenByDescending(s => s.Row).Take(k).ToArray();

        Assert.Equal(slow.Select(s => s.Row), fast.Select(s => s.Row));
        for (var i = 0; i < fast.Length; i++) Assert.Equal(slow[i].Score, fast[i].Score, 1e-4f);
        Assert.Equal(Math.Min(k, slow.Length), fast.Length);
        Assert.Contains(fast, s => Boost(s.Row) > 0);
    }

    [Fact]
    public void A_largest_boost_below_zero_or_not_finite_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TopKScanner.Scan([1f, 2f], 2, 1, [1f, 1f], 1, boost: _ => 0f, maxBoost: -1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => TopKScanner.Scan([1f, 2f], 2, 1, [1f, 1f], 1, boost: _ => 0f, maxBoost: float.NaN));
    }

    [Fact]
    public void Ties_go_to_the_lower_row()
    {
        float[] matrix = [1, 0, 1, 0, 1, 0, 2, 0];
        var best = TopKScanner.Scan(matrix, 2, 4, [1f, 0f], 3);
        Assert.Equal([3, 0, 1], best.Select(b => b.Row));
    }

    [Fact]
    public void Zero_k_or_no_rows_returns_nothing_and_a_wrong_query_length_throws()
    {
        Assert.Empty(TopKScanner.Scan([1f, 2f], 2, 1, [1f, 1f], 0));
        Assert.Empty(TopKScanner.Scan([], 2, 0, [1f, 1f], 5));
        Assert.Throws<ArgumentException>(() => TopKScanner.Scan([1f, 2f], 2, 1, [1f], 1));
    }
}
