using System.Numerics.Tensors;
using Recommender.Abstractions;

namespace Recommender.Grains.Ranking;

/// <summary>
/// Why an item was recommended: the items of the user's recent history whose vectors are most similar (cosine) to
/// the recommended item's vector, i.e. the history items that pull the interest vector towards it.
/// </summary>
public static class HistoryExplanations
{
    /// <summary>How many of the most recent distinct history items are considered.</summary>
    public const int RecentItems = 20;

    /// <summary>How many history items each recommendation names.</summary>
    public const int PerItem = 2;

    /// <summary>
    /// For each recommended vector, the <paramref name="count"/> history items with the highest positive cosine
    /// similarity, best first (ties: the more recent, i.e. earlier in <paramref name="history"/>); never the item itself.
    /// </summary>
    public static IReadOnlyList<HistoryReason>[] Explain(
        IReadOnlyList<(string ItemId, float[] Vector)> recommended,
        IReadOnlyList<(string ItemId, string Title, float[] Vector)> history,
        int count)
    {
        var result = new IReadOnlyList<HistoryReason>[recommended.Count];
        for (var r = 0; r < recommended.Count; r++)
        {
            var (id, vector) = recommended[r];
            result[r] = history
                .Select((h, order) => (h, order, Similarity: h.ItemId == id ? float.NaN : Cosine(vector, h.Vector)))
                .Where(x => x.Similarity > 0)
                .OrderByDescending(x => x.Similarity)
                .ThenBy(x => x.order)
                .Take(count)
                .Select(x => new HistoryReason(x.h.ItemId, x.h.Title, x.Similarity))
                .ToArray();
        }
        return result;
    }

    /// <summary>
    /// Adds explanations to a model ranking: reads the vectors of the ranked items and of <paramref name="recentHistory"/>
    /// (most recent first) from every shard of the ranking's version, then explains each ranked item.
    /// </summary>
    public static async Task<Abstractions.Ranking> AddTo(Abstractions.Ranking ranking, ActiveModel model, IReadOnlyList<string> recentHistory, IGrainFactory grains)
    {
        if (ranking.Items.Count == 0 || recentHistory.Count == 0) return ranking;
        var ids = ranking.Items.Select(i => i.ItemId).Concat(recentHistory).Distinct(StringComparer.Ordinal).ToArray();
        var vectors = await ItemVectors.ReadAsync(grains, model, ids);
        var history = recentHistory.Where(vectors.ContainsKey).Select(id => (id, vectors[id].Title, vectors[id].Vector)).ToArray();
        var ranked = ranking.Items.Select(i => (i.ItemId, vectors.TryGetValue(i.ItemId, out var v) ? v.Vector : [])).ToArray();
        var reasons = Explain(ranked, history, PerItem);
        return ranking with { Items = ranking.Items.Select((item, i) => item with { Because = reasons[i] }).ToArray() };
    }

    private static float Cosine(float[] a, float[] b)
    {
        if (a.Length == 0 || a.Length != b.Length) return float.NaN;
        var similarity = TensorPrimitives.CosineSimilarity(a, b);
        return float.IsFinite(similarity) ? similarity : float.NaN;
    }
}
