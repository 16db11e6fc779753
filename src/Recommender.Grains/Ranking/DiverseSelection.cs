using System.Numerics.Tensors;
using Recommender.Abstractions;

namespace Recommender.Grains.Ranking;

/// <summary>
/// Maximal marginal relevance (Carbonell and Goldstein, 1998): picks k items of a pool one at a time, each time the
/// one with the best (1 − λ)·relevance − λ·(its largest cosine similarity to the items already picked). Relevance is
/// the candidate's similarity to the query scaled to [0, 1] over the pool, so that λ means the same for dot-product
/// and cosine models. λ = 0 keeps the pool's order; λ = 1 picks the best item, then each time the one least like those
/// picked.
/// </summary>
public static class DiverseSelection
{
    /// <summary>How many candidates a diverse list of k is picked from: four times k, at most k + 1,000.</summary>
    public static int PoolSize(int k) => (int)Math.Min(4L * k, k + 1_000L);

    /// <param name="pool">Candidates, most similar to the query first, each with its vector.</param>
    public static ScoredItem[] Select(IReadOnlyList<ScoredItem> pool, int k, float lambda)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (!(lambda >= 0 && lambda <= 1)) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "Diversity must be from 0 to 1.");
        var count = Math.Min(k, pool.Count);
        if (lambda == 0 || pool.Count <= 1) return [.. pool.Take(count)];

        var units = new float[pool.Count][];
        for (var i = 0; i < units.Length; i++)
        {
            var vector = VectorBytes.ToFloats(pool[i].Vector ?? throw new ArgumentException($"Candidate '{pool[i].ItemId}' has no vector.", nameof(pool)));
            var norm = TensorPrimitives.Norm(vector);
            if (norm > 0) TensorPrimitives.Divide(vector, norm, vector);
            units[i] = vector;
        }
        var top = pool.Max(c => c.Similarity);
        var bottom = pool.Min(c => c.Similarity);
        var span = top - bottom;
        var relevance = pool.Select(c => span > 0 ? (c.Similarity - bottom) / span : 1f).ToArray();

        var picked = new List<int>(count);
        var taken = new bool[pool.Count];
        var closest = new float[pool.Count];
        Array.Fill(closest, float.NegativeInfinity);
        while (picked.Count < count)
        {
            var best = -1;
            var bestValue = double.NegativeInfinity;
            for (var i = 0; i < pool.Count; i++)
            {
                if (taken[i]) continue;
                // Nothing picked yet: relevance alone. Ties go to the more relevant candidate (the earlier one).
                var value = picked.Count == 0 ? relevance[i] : (1 - lambda) * relevance[i] - lambda * closest[i];
                if (value > bestValue)
                {
                    best = i;
                    bestValue = value;
                }
            }
            taken[best] = true;
            picked.Add(best);
            for (var i = 0; i < pool.Count; i++)
                if (!taken[i]) closest[i] = Math.Max(closest[i], TensorPrimitives.Dot(units[i], units[best]));
        }
        return [.. picked.Select(i => pool[i])];
    }
}
