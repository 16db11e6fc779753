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
    /// <param name="slots">Places (1 the first pick) each taken by the first of its candidates (best first, each with its
    /// vector, from the pool or not) not picked above it that the caps let in, the pick going on from the next place as
    /// if that item had been picked (<see cref="TagSlots"/>); a place without such a candidate is picked as any other.
    /// The list ends where the pool runs out at a place that is not a slot's, as a list without diversity does.</param>
    public static ScoredItem[] Select(IReadOnlyList<ScoredItem> pool, int k, float lambda, IReadOnlyList<TagCap>? caps = null,
        IReadOnlyList<CapMarks>? taken = null, IReadOnlyList<float[]>? held = null, IReadOnlyList<(int Position, IReadOnlyList<ScoredItem> Candidates)>? slots = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (!(lambda >= 0 && lambda <= 1)) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "Diversity must be from 0 to 1.");
        var count = Math.Min(k, pool.Count);
        held = held is { Count: > 0 } ? held : null;
        var slotAt = (slots ?? []).Where(s => s.Position >= 1 && s.Position <= k).ToDictionary(s => s.Position, s => s.Candidates);
        if (slotAt.Count == 0 && (lambda == 0 || count == 0 || (count == 1 && held is null)))
            return caps is { Count: > 0 } ? [.. TagCaps.Take(pool, TagCaps.Of, caps, k, taken)] : [.. pool.Take(count)];
        var counts = caps is { Count: > 0 } ? new TagCaps.Counts(caps, taken ?? []) : null;

        // Rows 0 to pool.Count − 1 are the pool's; a slot's item from outside it is added after them when picked.
        var units = new List<float[]>(pool.Count);
        for (var i = 0; i < pool.Count; i++)
            units.Add(Unit(VectorOf(pool[i])));
        var inPool = new Dictionary<string, int>(pool.Count, StringComparer.Ordinal);
        for (var i = pool.Count - 1; i >= 0; i--) inPool[pool[i].ItemId] = i;
        var top = pool.Count == 0 ? 0 : pool.Max(c => c.Relevance);
        var bottom = pool.Count == 0 ? 0 : pool.Min(c => c.Relevance);
        var span = top - bottom;
        var relevance = pool.Select(c => span > 0 ? (c.Relevance - bottom) / span : 1f).ToArray();
        var shown = held?.Select(Unit).ToArray() ?? [];
        var closest = new float[pool.Count];
        var upTo = new int[pool.Count];
        var isPicked = new bool[pool.Count];
        var picked = new List<int>(k);
        var list = new List<ScoredItem>(k);
        var listed = new HashSet<string>(StringComparer.Ordinal);

        // The places before the first pick that are slots', then (with nothing shown yet) the first pick: the most
        // relevant item the caps admit (ties: the earlier one; items held anyway may have filled a cap).
        while (list.Count < k && TakeSlot()) { }
        if (list.Count < k && shown.Length == 0 && picked.Count == 0)
        {
            var first = -1;
            for (var i = 0; i < pool.Count; i++)
                if ((first < 0 || relevance[i] > relevance[first]) && counts?.Admits(TagCaps.Of(pool[i])) != false) first = i;
            if (first < 0) return [];
            Pick(first, pool[first]);
        }
        // Every other candidate is then scored against what is shown. Lazy greedy: a candidate's value only falls as
        // more items are picked (its closest cosine can only grow), so a value computed against fewer picks bounds the
        // true one. The best bound is brought up to date, and taken if it is still the best; far fewer cosines than
        // scoring every candidate after every pick, same picks.
        var queue = new PriorityQueue<int, (float NegativeValue, int Index)>(pool.Count);
        for (var i = 0; i < pool.Count; i++)
        {
            if (isPicked[i]) continue;
            closest[i] = float.NegativeInfinity;
            foreach (var unit in shown) closest[i] = Math.Max(closest[i], TensorPrimitives.Dot(units[i], unit));
            Bring(i);
            queue.Enqueue(i, (-Value(i), i));
        }
        while (list.Count < k)
        {
            if (TakeSlot()) continue;
            if (!queue.TryDequeue(out var candidate, out _)) break;
            // A cap once full stays full: such a candidate is never picked; nor is one a slot took.
            if (isPicked[candidate] || (counts is not null && !counts.Admits(TagCaps.Of(pool[candidate])))) continue;
            if (upTo[candidate] == picked.Count)
            {
                Pick(candidate, pool[candidate]);
                continue;
            }
            Bring(candidate);
            queue.Enqueue(candidate, (-Value(candidate), candidate));
        }
        return [.. list];

        float Value(int i) => (1 - lambda) * relevance[i] - lambda * closest[i];

        void Bring(int i)
        {
            for (var p = upTo[i]; p < picked.Count; p++)
                closest[i] = Math.Max(closest[i], TensorPrimitives.Dot(units[i], units[picked[p]]));
            upTo[i] = picked.Count;
        }

        void Pick(int row, ScoredItem item)
        {
            if (row < pool.Count) isPicked[row] = true;
            picked.Add(row);
            list.Add(item);
            listed.Add(item.ItemId);
            counts?.Add(TagCaps.Of(item));
        }

        // The next place, when it is a slot's with a candidate not yet listed, takes that candidate.
        bool TakeSlot()
        {
            if (!slotAt.TryGetValue(list.Count + 1, out var candidates)) return false;
            var best = candidates.FirstOrDefault(c => !listed.Contains(c.ItemId) && counts?.Admits(TagCaps.Of(c)) != false);
            if (best is null) return false;
            if (!inPool.TryGetValue(best.ItemId, out var row))
            {
                row = units.Count;
                units.Add(Unit(VectorOf(best)));
            }
            Pick(row, best);
            return true;
        }
    }

    private static float[] VectorOf(ScoredItem item) =>
        VectorBytes.ToFloats(item.Vector ?? throw new ArgumentException($"Candidate '{item.ItemId}' has no vector.", nameof(item)));

    /// <summary>A copy of <paramref name="vector"/> of length 1 (the zero vector stays zero).</summary>
    private static float[] Unit(float[] vector)
    {
        var unit = vector.ToArray();
        var norm = TensorPrimitives.Norm(unit);
        if (norm > 0) TensorPrimitives.Divide(unit, norm, unit);
        return unit;
    }
}
