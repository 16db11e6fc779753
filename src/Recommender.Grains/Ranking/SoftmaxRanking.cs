using Recommender.Abstractions;

namespace Recommender.Grains.Ranking;

/// <summary>Merging per-shard candidates into the global top-K, and turning similarities into softmax scores.</summary>
public static class SoftmaxRanking
{
    /// <summary>The best <paramref name="k"/> of all candidates, highest relevance (similarity and boosts) first (ties: by item id), each item once.</summary>
    public static ScoredItem[] Merge(IEnumerable<IReadOnlyList<ScoredItem>> perShard, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        var lists = perShard.ToArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // Shards send their rows in this order already: reading the lists' heads in turn ranks them without a sort, and
        // stops at k. Lists in another order (none that a shard sends) are sorted as a whole.
        if (!Array.TrueForAll(lists, IsRanked))
            return [.. lists.SelectMany(s => s).OrderByDescending(c => c.Relevance).ThenBy(c => c.ItemId, StringComparer.Ordinal)
                .Where(c => seen.Add(c.ItemId)).Take(k)];
        var merged = new List<ScoredItem>(Math.Min(k, lists.Sum(l => l.Count)));
        // An item in two lists (a move between shards) is taken once, from its higher place, or from the earlier list.
        var heads = new PriorityQueue<int, (ScoredItem Item, int List)>(lists.Length, HeadOrder);
        var next = new int[lists.Length];
        for (var i = 0; i < lists.Length; i++)
            if (lists[i].Count > 0) heads.Enqueue(i, (lists[i][0], i));
        while (merged.Count < k && heads.TryDequeue(out var list, out var head))
        {
            if (seen.Add(head.Item.ItemId)) merged.Add(head.Item);
            if (++next[list] < lists[list].Count) heads.Enqueue(list, (lists[list][next[list]], list));
        }
        return [.. merged];
    }

    private static readonly Comparer<(ScoredItem Item, int List)> HeadOrder = Comparer<(ScoredItem Item, int List)>.Create(static (a, b) =>
        RanksBelow(a.Item, b.Item) ? 1 : RanksBelow(b.Item, a.Item) ? -1 : a.List.CompareTo(b.List));

    /// <summary>Whether <paramref name="list"/> is in the order <see cref="Merge"/> gives (equal items in any order).</summary>
    private static bool IsRanked(IReadOnlyList<ScoredItem> list)
    {
        for (var i = 1; i < list.Count; i++)
            if (RanksBelow(list[i - 1], list[i])) return false;
        return true;
    }

    /// <summary>Whether <paramref name="item"/> comes after <paramref name="other"/> in the order <see cref="Merge"/> gives.</summary>
    public static bool RanksBelow(ScoredItem item, ScoredItem other) =>
        item.Relevance < other.Relevance || item.Relevance == other.Relevance && string.CompareOrdinal(item.ItemId, other.ItemId) > 0;

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

    /// <summary>Ranked items with softmax scores over the given candidates' relevance (similarity and boosts), each with its own similarity.</summary>
    public static RankedItem[] Rank(IReadOnlyList<ScoredItem> candidates, double temperature)
    {
        var similarities = candidates.Select(c => c.Relevance).ToArray();
        var scores = Softmax(similarities, temperature);
        var ranked = new RankedItem[candidates.Count];
        for (var i = 0; i < ranked.Length; i++)
            ranked[i] = new RankedItem(candidates[i].ItemId, candidates[i].Title, scores[i], candidates[i].Similarity,
                Boost: TagBoosts.Factor(candidates[i].Boost / temperature));
        return ranked;
    }

    /// <summary>
    /// The popularity list as a ranking: softmax over log counts, i.e. each item's share of the listed interactions;
    /// with an <paramref name="offset"/>, the k after the first offset, their shares taken over the list down to them.
    /// The items are taken in the order given (<see cref="Boosted"/> orders them for boosts); with <paramref name="boosts"/>,
    /// a boosted item's count is multiplied by its factors for its share, and its similarity stays its own log count.
    /// </summary>
    public static RankedItem[] RankPopular(IEnumerable<PopularItem> popular, int k, IReadOnlySet<string>? exclude, int offset = 0,
        PopularBoosts? boosts = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var chosen = popular.Where(p => exclude is null || !exclude.Contains(p.ItemId)).Take(offset + k).ToArray();
        var logCounts = chosen.Select(LogCount).ToArray();
        var relevance = chosen.Select((p, i) => (float)(logCounts[i] + (boosts?.LogFactor(p) ?? 0))).ToArray();
        var scores = Softmax(relevance, 1.0);
        return chosen.Select((p, i) => new RankedItem(p.ItemId, p.Title, scores[i], logCounts[i], Boost: TagBoosts.Factor(relevance[i] - logCounts[i])))
            .Skip(offset).ToArray();
    }

    /// <summary>
    /// The first <paramref name="count"/> of <paramref name="byCount"/> (highest count first) in the order of their counts
    /// multiplied by their boosts' factors; equal products keep the order given.
    /// </summary>
    public static PopularItem[] Boosted(IEnumerable<PopularItem> byCount, PopularBoosts boosts, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        // No item's log count rises by more than the raising boosts together: once an item's count falls short of the
        // weakest kept even so, every later (smaller) one does too, and the catalogue's long tail is never looked at.
        var ceiling = boosts.Ceiling;
        // Grown as items come: a capped list's deeper reads ask for more than the list may hold.
        var kept = new PriorityQueue<PopularItem, (double Key, int Order)>(Math.Min(count, 4096) + 1, WeakestFirst);
        var order = 0;
        foreach (var item in byCount)
        {
            var logCount = LogCount(item);
            (double Key, int Order) weakest = default;
            var full = kept.Count == count && kept.TryPeek(out _, out weakest);
            if (full && logCount + ceiling < weakest.Key) break;
            var entry = (Key: logCount + boosts.LogFactor(item), Order: order++);
            if (!full) kept.Enqueue(item, entry);
            else if (WeakestFirst.Compare(entry, weakest) > 0) kept.DequeueEnqueue(item, entry);
        }
        var result = new PopularItem[kept.Count];
        for (var i = result.Length - 1; i >= 0; i--) result[i] = kept.Dequeue();
        return result;
    }

    /// <summary>Lower key first; among equal keys the later item (which ranks below the earlier).</summary>
    private static readonly Comparer<(double Key, int Order)> WeakestFirst =
        Comparer<(double Key, int Order)>.Create((x, y) => x.Key != y.Key ? x.Key.CompareTo(y.Key) : y.Order.CompareTo(x.Order));

    /// <summary>A popular item's relevance before boosts: the log of its count.</summary>
    public static float LogCount(PopularItem item) => (float)Math.Log(Math.Max(1, item.Count));
}
