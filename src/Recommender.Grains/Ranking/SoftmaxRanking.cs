using Recommender.Abstractions;

namespace Recommender.Grains.Ranking;

/// <summary>Merging per-shard candidates into the global top-K, and turning similarities into softmax scores.</summary>
public static class SoftmaxRanking
{
    /// <summary>The best <paramref name="k"/> of all candidates, highest similarity first (ties: by item id), each item once.</summary>
    public static ScoredItem[] Merge(IEnumerable<IReadOnlyList<ScoredItem>> perShard, int k)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return perShard
            .SelectMany(s => s)
            .OrderByDescending(c => c.Similarity)
            .ThenBy(c => c.ItemId, StringComparer.Ordinal)
            .Where(c => seen.Add(c.ItemId))
            .Take(k)
            .ToArray();
    }

    /// <summary>exp(s_i / T) / Σ exp(s_j / T), computed stably by subtracting the maximum.</summary>
    public static double[] Softmax(ReadOnlySpan<float> similarities, double temperature)
    {
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "Temperature must be positive.");
        var scores = new double[similarities.Length];
        if (scores.Length == 0) return scores;
        double max = double.NegativeInfinity;
        foreach (var s in similarities) max = Math.Max(max, s);
        double sum = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] = Math.Exp((similarities[i] - max) / temperature);
            sum += scores[i];
        }
        for (var i = 0; i < scores.Length; i++) scores[i] /= sum;
        return scores;
    }

    /// <summary>Ranked items with softmax scores over the given candidates.</summary>
    public static RankedItem[] Rank(IReadOnlyList<ScoredItem> candidates, double temperature)
    {
        var similarities = candidates.Select(c => c.Similarity).ToArray();
        var scores = Softmax(similarities, temperature);
        var ranked = new RankedItem[candidates.Count];
        for (var i = 0; i < ranked.Length; i++)
            ranked[i] = new RankedItem(candidates[i].ItemId, candidates[i].Title, scores[i], candidates[i].Similarity);
        return ranked;
    }

    /// <summary>
    /// The popularity list as a ranking: softmax over log counts, i.e. each item's share of the listed interactions;
    /// with an <paramref name="offset"/>, the k after the first offset, their shares taken over the list down to them.
    /// </summary>
    public static RankedItem[] RankPopular(IEnumerable<PopularItem> popular, int k, IReadOnlySet<string>? exclude, int offset = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var chosen = popular.Where(p => exclude is null || !exclude.Contains(p.ItemId)).Take(offset + k).ToArray();
        var logCounts = chosen.Select(p => (float)Math.Log(Math.Max(1, p.Count))).ToArray();
        var scores = Softmax(logCounts, 1.0);
        return chosen.Select((p, i) => new RankedItem(p.ItemId, p.Title, scores[i], logCounts[i])).Skip(offset).ToArray();
    }
}
