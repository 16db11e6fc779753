using System.Numerics.Tensors;
using Recommender.Abstractions;

namespace Recommender.Grains.Ranking;

/// <summary>
/// Maximal marginal relevance (Carbonell and Goldstein, 1998): picks k items of a pool one at a time, each time the
/// one with the best (1 − λ)·relevance − λ·(its largest cosine similarity to the items already picked). Relevance is
/// the candidate's similarity to the query (with the request's boosts) scaled to [0, 1] over the pool, so that λ means the same for dot-product
/// and cosine models. λ = 0 keeps the pool's order; λ = 1 picks the best item, then each time the one least like those
/// picked.
/// </summary>
public static class DiverseSelection
{
    /// <summary>How many candidates a diverse list of k is picked from: four times k, at most k + 1,000.</summary>
    public static int PoolSize(int k) => (int)Math.Min(4L * k, k + 1_000L);

    /// <param name="pool">Candidates, most similar to the query first, each with its vector.</param>
    /// <param name="caps">Caps on the picks (<see cref="TagCaps"/>): a candidate whose capped tag is full is passed over,
    /// so fewer than k may be picked from a pool too small for them.</param>
    /// <param name="taken">What the items the list holds anyway (its pinned items) count against, counted into the caps first.</param>
    /// <param name="held">The vectors of the items the list shows anyway (its pinned items on the page): every candidate is
    /// scored against them as against items already picked, so that a pinned item's near-copy does not stand beside it.</param>
    public static ScoredItem[] Select(IReadOnlyList<ScoredItem> pool, int k, float lambda, IReadOnlyList<TagCap>? caps = null,
        IReadOnlyList<CapMarks>? taken = null, IReadOnlyList<float[]>? held = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (!(lambda >= 0 && lambda <= 1)) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "Diversity must be from 0 to 1.");
        var count = Math.Min(k, pool.Count);
        held = held is { Count: > 0 } ? held : null;
        if (lambda == 0 || count == 0 || (count == 1 && held is null))
            return caps is { Count: > 0 } ? [.. TagCaps.Take(pool, TagCaps.Of, caps, k, taken)] : [.. pool.Take(count)];
        var counts = caps is { Count: > 0 } ? new TagCaps.Counts(caps, taken ?? []) : null;

        var units = new float[pool.Count][];
        for (var i = 0; i < units.Length; i++)
            units[i] = Unit(VectorBytes.ToFloats(pool[i].Vector ?? throw new ArgumentException($"Candidate '{pool[i].ItemId}' has no vector.", nameof(pool))));
        var top = pool.Max(c => c.Relevance);
        var bottom = pool.Min(c => c.Relevance);
        var span = top - bottom;
        var relevance = pool.Select(c => span > 0 ? (c.Relevance - bottom) / span : 1f).ToArray();
        var closest = new float[pool.Count];
        if (held is not null)
        {
            var shown = held.Select(Unit).ToArray();
            for (var i = 0; i < pool.Count; i++)
            {
                closest[i] = float.NegativeInfinity;
                foreach (var unit in shown) closest[i] = Math.Max(closest[i], TensorPrimitives.Dot(units[i], unit));
            }
        }

        // The first pick is the most relevant item the caps admit (ties: the earlier one; items held anyway may have
        // filled a cap), or beside items the list shows anyway the best by value; every other candidate is then scored against it.
        var first = -1;
        for (var i = 0; i < pool.Count; i++)
            if ((first < 0 || (held is null ? relevance[i] > relevance[first] : Value(i) > Value(first))) && counts?.Admits(TagCaps.Of(pool[i])) != false) first = i;
        if (first < 0) return [];
        var picked = new List<int>(count) { first };
        counts?.Add(TagCaps.Of(pool[first]));
        var upTo = new int[pool.Count];
        // Lazy greedy: once one item is picked, a candidate's value only falls as more are (its closest cosine can only
        // grow), so a value computed against fewer picks bounds the true one. The best bound is brought up to date,
        // and taken if it is still the best; far fewer cosines than scoring every candidate after every pick, same picks.
        var queue = new PriorityQueue<int, (float NegativeValue, int Index)>(pool.Count);
        for (var i = 0; i < pool.Count; i++)
        {
            if (i == first) continue;
            closest[i] = held is null ? TensorPrimitives.Dot(units[i], units[first]) : Math.Max(closest[i], TensorPrimitives.Dot(units[i], units[first]));
            upTo[i] = 1;
            queue.Enqueue(i, (-Value(i), i));
        }
        while (picked.Count < count && queue.TryDequeue(out var candidate, out _))
        {
            // A cap once full stays full: such a candidate is never picked.
            if (counts is not null && !counts.Admits(TagCaps.Of(pool[candidate]))) continue;
            if (upTo[candidate] == picked.Count)
            {
                picked.Add(candidate);
                counts?.Add(TagCaps.Of(pool[candidate]));
                continue;
            }
            for (var p = upTo[candidate]; p < picked.Count; p++)
                closest[candidate] = Math.Max(closest[candidate], TensorPrimitives.Dot(units[candidate], units[picked[p]]));
            upTo[candidate] = picked.Count;
            queue.Enqueue(candidate, (-Value(candidate), candidate));
        }
        return [.. picked.Select(i => pool[i])];

        float Value(int i) => (1 - lambda) * relevance[i] - lambda * closest[i];
    }

    /// <summary>A copy of <paramref name="vector"/> of length 1 (the zero vector stays zero).</summary>
    private static float[] Unit(float[] vector)
    {
        var unit = vector.ToArray();
        var norm = TensorPrimitives.Norm(unit);
        if (norm > 0) TensorPrimitives.Divide(unit, norm, unit);
        return unit;
    }
}
