namespace Recommender.Model.Evaluation;

/// <summary>
/// Accumulates leave-one-out ranking metrics from the 0-based rank of the single relevant item
/// (the number of candidates scored strictly above it). HR@K equals Recall@K with one relevant item.
/// </summary>
public sealed class RankingMetrics
{
    private readonly int[] _cutoffs;
    private readonly double[] _hits;
    private readonly double[] _ndcg;
    private double _reciprocalRankSum;

    public RankingMetrics(params int[] cutoffs)
    {
        if (cutoffs.Length == 0) cutoffs = [1, 5, 10, 20];
        if (cutoffs.Any(k => k <= 0)) throw new ArgumentOutOfRangeException(nameof(cutoffs), "Cut-offs must be positive.");
        _cutoffs = cutoffs.Order().ToArray();
        _hits = new double[_cutoffs.Length];
        _ndcg = new double[_cutoffs.Length];
    }

    /// <summary>The metrics of a list of per-case ranks (as <see cref="RankingEvaluator.Ranks"/> returns them).</summary>
    public static RankingMetrics FromRanks(IEnumerable<int> ranks, params int[] cutoffs)
    {
        var metrics = new RankingMetrics(cutoffs);
        foreach (var rank in ranks) metrics.Add(rank);
        return metrics;
    }

    public int Count { get; private set; }

    public IReadOnlyList<int> Cutoffs => _cutoffs;

    /// <summary>Adds one test case whose relevant item has the given 0-based rank.</summary>
    public void Add(int rank)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        Count++;
        _reciprocalRankSum += 1.0 / (rank + 1);
        for (var i = 0; i < _cutoffs.Length; i++)
        {
            if (rank >= _cutoffs[i]) continue;
            _hits[i] += 1;
            _ndcg[i] += 1.0 / Math.Log2(rank + 2);
        }
    }

    /// <summary>Merges another accumulator with the same cut-offs (for parallel evaluation).</summary>
    public void Merge(RankingMetrics other)
    {
        if (!other._cutoffs.SequenceEqual(_cutoffs)) throw new ArgumentException("Cut-offs differ.", nameof(other));
        Count += other.Count;
        _reciprocalRankSum += other._reciprocalRankSum;
        for (var i = 0; i < _cutoffs.Length; i++)
        {
            _hits[i] += other._hits[i];
            _ndcg[i] += other._ndcg[i];
        }
    }

    public double HitRate(int k) => Count == 0 ? 0 : _hits[IndexOf(k)] / Count;

    public double Ndcg(int k) => Count == 0 ? 0 : _ndcg[IndexOf(k)] / Count;

    public double Mrr => Count == 0 ? 0 : _reciprocalRankSum / Count;

    /// <summary>Metric name → value, e.g. "HR@10", "NDCG@10", "MRR".</summary>
    public IReadOnlyDictionary<string, double> ToDictionary()
    {
        var result = new Dictionary<string, double>();
        foreach (var k in _cutoffs)
        {
            result[$"HR@{k}"] = HitRate(k);
            result[$"NDCG@{k}"] = Ndcg(k);
        }
        result["MRR"] = Mrr;
        return result;
    }

    private int IndexOf(int k)
    {
        var index = Array.IndexOf(_cutoffs, k);
        return index >= 0 ? index : throw new ArgumentOutOfRangeException(nameof(k), $"Cut-off {k} is not tracked; tracked: {string.Join(", ", _cutoffs)}.");
    }
}
