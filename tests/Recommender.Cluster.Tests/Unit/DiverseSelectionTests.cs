using System.Numerics.Tensors;
using Recommender.Abstractions;
using Recommender.Grains.Ranking;

namespace Recommender.Cluster.Tests.Unit;

public sealed class DiverseSelectionTests
{
    private static ScoredItem Item(string id, float similarity, params float[] vector) => new(id, id, similarity, VectorBytes.FromFloats(vector));

    // Two near-copies of the best item, then a different one a little less relevant, then one unlike all of them.
    private static readonly ScoredItem[] Pool =
    [
        Item("a", 10f, 1, 0, 0),
        Item("a-copy", 9.9f, 1, 0.05f, 0),
        Item("a-copy-2", 9.8f, 0.99f, 0.1f, 0),
        Item("b", 9f, 0, 1, 0),
        Item("c", 5f, 0, 0, 1),
    ];

    [Fact]
    public void Without_diversity_the_pool_keeps_its_order()
    {
        Assert.Equal(["a", "a-copy", "a-copy-2"], DiverseSelection.Select(Pool, 3, 0).Select(i => i.ItemId));
        // A pool without vectors is fine then: nothing is compared.
        Assert.Equal(["x", "y"], DiverseSelection.Select([new ScoredItem("x", "x", 2), new ScoredItem("y", "y", 1)], 5, 0).Select(i => i.ItemId));
    }

    [Fact]
    public void Diversity_passes_over_near_copies_of_an_item_already_picked()
    {
        // Relevance over the pool (scores 5 to 10): a 1, a-copy 0.98, a-copy-2 0.96, b 0.8, c 0. At λ = 0.3, after "a":
        // "b" scores 0.7·0.8 − 0.3·0 = 0.56 against 0.7·0.98 − 0.3·0.999 = 0.386 for "a-copy", which then beats "c" (0).
        Assert.Equal(["a", "b", "a-copy"], DiverseSelection.Select(Pool, 3, 0.3f).Select(i => i.ItemId));
        // At λ = 0.5 the copy scores 0.49 − 0.499 < 0: "c", unlike both picked items, comes first.
        Assert.Equal(["a", "b", "c"], DiverseSelection.Select(Pool, 3, 0.5f).Select(i => i.ItemId));
        // Some diversity: the copy's relevance outweighs its likeness until λ grows.
        Assert.Equal(["a", "a-copy", "a-copy-2"], DiverseSelection.Select(Pool, 3, 0.01f).Select(i => i.ItemId));
        // All of it: the best item, then each time the one least like those picked, relevance aside.
        Assert.Equal(["a", "b", "c"], DiverseSelection.Select(Pool, 3, 1).Select(i => i.ItemId));
    }

    [Fact]
    public void Cosine_not_length_decides_likeness_and_relevance_is_scaled_over_the_pool()
    {
        // The same direction at ten times the length is still a copy; scores a thousand times larger change nothing.
        ScoredItem[] scaled = [.. Pool.Select(i => i with { Similarity = i.Similarity * 1000, Vector = VectorBytes.FromFloats(VectorBytes.ToFloats(i.Vector!).Select(v => v * 10).ToArray()) })];
        Assert.Equal(DiverseSelection.Select(Pool, 4, 0.5f).Select(i => i.ItemId), DiverseSelection.Select(scaled, 4, 0.5f).Select(i => i.ItemId));
        // Equal scores: every relevance is 1, and ties go to the earlier candidate.
        ScoredItem[] level = [.. Pool.Select(i => i with { Similarity = 1 })];
        Assert.Equal(["a", "b", "c"], DiverseSelection.Select(level, 3, 0.5f).Select(i => i.ItemId));
    }

    [Fact]
    public void Each_candidate_is_picked_once_and_k_larger_than_the_pool_returns_the_pool()
    {
        var all = DiverseSelection.Select(Pool, 10, 0.7f);
        Assert.Equal(Pool.Length, all.Length);
        Assert.Equal(Pool.Select(i => i.ItemId).Order(), all.Select(i => i.ItemId).Order());
        Assert.Empty(DiverseSelection.Select([], 3, 0.5f));
        Assert.Empty(DiverseSelection.Select(Pool, 0, 0.5f));
    }

    [Theory]
    [InlineData(1, 4)]
    [InlineData(10, 40)]
    [InlineData(1000, 2000)]
    public void The_pool_is_four_times_k_and_at_most_a_thousand_more(int k, int pool) => Assert.Equal(pool, DiverseSelection.PoolSize(k));

    [Fact]
    public void Lambda_outside_zero_to_one_and_a_candidate_without_a_vector_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DiverseSelection.Select(Pool, 3, 1.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => DiverseSelection.Select(Pool, 3, float.NaN));
        Assert.Throws<ArgumentException>(() => DiverseSelection.Select([.. Pool, new ScoredItem("bare", "bare", 1)], 3, 0.5f));
    }

    /// <summary>
    /// The selection as defined: after every pick, every candidate scored against every item picked (with caps, every
    /// candidate whose capped tag is full left out); a slot's place taken by its first candidate not listed above it.
    /// </summary>
    private static string[] Exhaustive(IReadOnlyList<ScoredItem> pool, int k, float lambda, IReadOnlyList<TagCap>? caps = null, float[][]? held = null,
        IReadOnlyList<(int Position, IReadOnlyList<ScoredItem> Candidates)>? slots = null)
    {
        static float[] Unit(float[] v) { var u = v.ToArray(); TensorPrimitives.Divide(u, TensorPrimitives.Norm(u), u); return u; }
        var units = pool.Select(c => Unit(VectorBytes.ToFloats(c.Vector!))).ToArray();
        var shown = (held ?? []).Select(Unit).ToArray();
        var top = pool.Max(c => c.Similarity);
        var bottom = pool.Min(c => c.Similarity);
        var relevance = pool.Select(c => top > bottom ? (c.Similarity - bottom) / (top - bottom) : 1f).ToArray();
        var listed = new List<ScoredItem>();
        bool FullFor(ScoredItem item) => caps is not null && Enumerable.Range(0, caps.Count)
            .Any(c => (item.CappedTags & (1 << c)) != 0 && listed.Count(p => (p.CappedTags & (1 << c)) != 0) >= caps[c].Count);
        bool Full(int i) => FullFor(pool[i]);
        while (listed.Count < k)
        {
            var slot = slots?.FirstOrDefault(s => s.Position == listed.Count + 1).Candidates?.FirstOrDefault(c => listed.All(l => l.ItemId != c.ItemId) && !FullFor(c));
            if (slot is not null)
            {
                listed.Add(slot);
                continue;
            }
            var best = -1;
            var bestValue = float.NegativeInfinity;
            for (var i = 0; i < pool.Count; i++)
            {
                if (listed.Any(l => l.ItemId == pool[i].ItemId) || Full(i)) continue;
                var closest = listed.Select(p => TensorPrimitives.Dot(units[i], Unit(VectorBytes.ToFloats(p.Vector!))))
                    .Concat(shown.Select(h => TensorPrimitives.Dot(units[i], h))).DefaultIfEmpty(0f).Max();
                var value = listed.Count == 0 && shown.Length == 0 ? relevance[i] : (1 - lambda) * relevance[i] - lambda * closest;
                if (best < 0 || value > bestValue) (best, bestValue) = (i, value);
            }
            if (best < 0) break;
            listed.Add(pool[best]);
        }
        return [.. listed.Select(i => i.ItemId)];
    }

    [Theory]
    [InlineData(1, 40, 8, 0.3f)]
    [InlineData(2, 40, 10, 0.7f)]
    [InlineData(3, 200, 50, 0.5f)]
    [InlineData(4, 120, 120, 0.2f)]
    [InlineData(5, 60, 15, 1f)]
    public void The_lazy_selection_picks_what_scoring_every_candidate_after_every_pick_does(int seed, int size, int k, float lambda)
    {
        var pool = RandomPool(new Random(seed), size, clusters: 5, dimension: 16, _ => 0);
        Assert.Equal(Exhaustive(pool, k, lambda), DiverseSelection.Select(pool, k, lambda).Select(c => c.ItemId));
    }

    /// <summary>
    /// Candidates with clustered vectors and a few exact ties in score, as near-duplicate items give, best first, each
    /// with the cap bits <paramref name="capped"/> draws.
    /// </summary>
    private static ScoredItem[] RandomPool(Random random, int size, int clusters, int dimension, Func<Random, int> capped)
    {
        var centres = Enumerable.Range(0, clusters).Select(_ => Enumerable.Range(0, dimension).Select(_ => (float)random.NextDouble() - 0.5f).ToArray()).ToArray();
        return [.. Enumerable.Range(0, size)
            .Select(i => Item($"i{i}", MathF.Round((float)random.NextDouble() * 20, 1),
                centres[random.Next(centres.Length)].Select(c => c + 0.1f * ((float)random.NextDouble() - 0.5f)).ToArray()) with { CappedTags = capped(random) })
            .OrderByDescending(c => c.Similarity)];
    }

    [Theory]
    [InlineData(13, 40, 8, 0.3f)]
    [InlineData(14, 60, 1, 0.5f)]
    [InlineData(15, 80, 20, 1f)]
    public void Items_the_list_shows_anyway_are_kept_apart_from_as_items_picked_are(int seed, int size, int k, float lambda)
    {
        var random = new Random(seed);
        var pool = RandomPool(random, size, clusters: 5, dimension: 16, _ => 0);
        // Two pinned items, each a near-copy of a candidate.
        float[][] held = [.. new[] { 0, 3 }.Select(i => VectorBytes.ToFloats(pool[i].Vector!).Select(x => x + 0.01f * (float)random.NextDouble()).ToArray())];
        var picked = DiverseSelection.Select(pool, k, lambda, held: held);
        Assert.Equal(Exhaustive(pool, k, lambda, held: held), picked.Select(c => c.ItemId));
        Assert.NotEqual(DiverseSelection.Select(pool, k, lambda).Select(c => c.ItemId), picked.Select(c => c.ItemId));
    }

    [Fact]
    public void A_pinned_items_near_copy_gives_way_to_an_item_unlike_it()
    {
        // "a" is pinned: of the rest, its copies are the most relevant, but "b" is picked first beside it.
        var rest = Pool[1..];
        Assert.Equal(["a-copy", "b"], DiverseSelection.Select(rest, 2, 0.3f).Select(c => c.ItemId));
        Assert.Equal(["b", "a-copy"], DiverseSelection.Select(rest, 2, 0.3f, held: [[1, 0, 0]]).Select(c => c.ItemId));
        Assert.Equal(["b"], DiverseSelection.Select(rest, 1, 0.3f, held: [[1, 0, 0]]).Select(c => c.ItemId));
        // Without diversity the pool keeps its order whatever the list shows.
        Assert.Equal(["a-copy", "a-copy-2"], DiverseSelection.Select(rest, 2, 0, held: [[1, 0, 0]]).Select(c => c.ItemId));
    }

    [Theory]
    [InlineData(6, 60, 15, 0.5f)]
    [InlineData(7, 60, 30, 0.3f)]
    [InlineData(8, 40, 40, 0.8f)]
    [InlineData(9, 50, 12, 0f)]
    public void Capped_tags_are_passed_over_once_full_and_the_rest_is_picked_as_before(int seed, int size, int k, float lambda)
    {
        // Three caps: a third of the items carry the first, a fifth the second, some both; the third tag is carried by none.
        TagCap[] caps = [new("a", 2), new("b", 3), new("unused", 1)];
        var pool = RandomPool(new Random(seed), size, clusters: 4, dimension: 8, random => (random.Next(3) == 0 ? 1 : 0) | (random.Next(5) == 0 ? 2 : 0));
        var picked = DiverseSelection.Select(pool, k, lambda, caps);
        Assert.Equal(Exhaustive(pool, k, lambda, caps), picked.Select(c => c.ItemId));
        Assert.InRange(picked.Count(c => (c.CappedTags & 1) != 0), 0, 2);
        Assert.InRange(picked.Count(c => (c.CappedTags & 2) != 0), 0, 3);
        // Only the caps make the list short: what is left of the pool would all be over a cap.
        var uncapped = pool.Count(c => c.CappedTags == 0);
        Assert.Equal(Math.Min(k, uncapped + picked.Count(c => c.CappedTags != 0)), picked.Length);
        if (lambda == 0) Assert.Equal(TagCaps.Take(pool, TagCaps.Of, caps, k).Select(c => c.ItemId), picked.Select(c => c.ItemId));
    }

    [Theory]
    [InlineData(10, 60, 15, 0.5f)]
    [InlineData(11, 40, 12, 0f)]
    [InlineData(12, 50, 20, 0.2f)]
    public void Items_the_list_holds_anyway_fill_the_caps_first_as_caps_that_much_smaller_would(int seed, int size, int k, float lambda)
    {
        var pool = RandomPool(new Random(seed), size, clusters: 4, dimension: 8, random => (random.Next(3) == 0 ? 1 : 0) | (random.Next(5) == 0 ? 2 : 0));
        // Two items held anyway: one counting against "a", one against "a" and "b".
        CapMarks[] taken = [new(1, null), new(3, null)];
        var held = DiverseSelection.Select(pool, k, lambda, [new("a", 3), new("b", 3)], taken);
        Assert.Equal(DiverseSelection.Select(pool, k, lambda, [new("a", 1), new("b", 2)]).Select(c => c.ItemId), held.Select(c => c.ItemId));
        Assert.InRange(held.Count(c => (c.CappedTags & 1) != 0), 0, 1);
    }

    [Fact]
    public void A_cap_the_items_held_anyway_fill_keeps_out_even_the_most_relevant_candidate()
    {
        ScoredItem[] pool = [.. Pool.Select((c, i) => i == 0 ? c with { CappedTags = 1 } : c)];
        foreach (var lambda in new[] { 0f, 0.3f })
        {
            var picked = DiverseSelection.Select(pool, 3, lambda, [new("a", 1)], [new(1, null)]);
            Assert.Equal(3, picked.Length);
            Assert.DoesNotContain(picked, c => c.ItemId == "a");
            Assert.Equal("a-copy", picked[0].ItemId);
        }
        Assert.Empty(DiverseSelection.Select([pool[0]], 3, 0.3f, [new("a", 1)], [new(1, null)]));
    }
    [Theory]
    [InlineData(21, 40, 8, 0.3f, new[] { 1, 4 })]
    [InlineData(22, 60, 10, 0.7f, new[] { 3 })]
    [InlineData(23, 120, 30, 0.5f, new[] { 2, 3, 9, 30 })]
    [InlineData(24, 30, 12, 1f, new[] { 12 })]
    [InlineData(25, 50, 10, 0f, new[] { 5, 6 })]
    public void Slots_take_their_places_and_the_picks_after_them_keep_apart_from_their_items(int seed, int size, int k, float lambda, int[] positions)
    {
        var random = new Random(seed);
        var pool = RandomPool(random, size, clusters: 5, dimension: 16, _ => 0);
        // Each slot's candidates: some from the pool, some not (a tag's best need not be among the list's best), best first.
        var outside = RandomPool(random, 10, clusters: 3, dimension: 16, _ => 0).Select(c => c with { ItemId = "x" + c.ItemId }).ToArray();
        (int, IReadOnlyList<ScoredItem>)[] slots = [.. positions.Select((position, n) => (position,
            (IReadOnlyList<ScoredItem>)[.. pool.Where((_, i) => i % (n + 2) == 1).Take(3).Concat(outside.Skip(n).Take(3)).OrderByDescending(c => c.Similarity)
                .Select(c => c with { Slot = $"tag{n}" })]))];

        var picked = DiverseSelection.Select(pool, k, lambda, slots: slots);

        Assert.Equal(Exhaustive(pool, k, lambda, slots: slots), picked.Select(c => c.ItemId));
        Assert.Equal(k, picked.Length);
        Assert.Equal(picked.Length, picked.Select(c => c.ItemId).Distinct().Count());
        foreach (var (position, candidates) in slots)
        {
            // The slot's first candidate not listed above it, marked with its tag.
            var above = picked.Take(position - 1).Select(c => c.ItemId).ToHashSet();
            Assert.Equal(candidates.First(c => !above.Contains(c.ItemId)).ItemId, picked[position - 1].ItemId);
            Assert.Equal(candidates[0].Slot, picked[position - 1].Slot);
        }
        // Places above the first slot are the plain pick's.
        var first = positions.Min();
        Assert.Equal(DiverseSelection.Select(pool, k, lambda).Take(first - 1).Select(c => c.ItemId), picked.Take(first - 1).Select(c => c.ItemId));
    }

    [Theory]
    [InlineData(31, 60, 10, 0.5f)]
    [InlineData(32, 80, 20, 0.3f)]
    [InlineData(33, 40, 8, 1f)]
    public void Under_caps_a_slot_takes_its_first_candidate_the_caps_let_in_and_counts_against_them(int seed, int size, int k, float lambda)
    {
        var random = new Random(seed);
        // Two capped tags, each on about a third of the candidates, the slot's candidates included.
        var pool = RandomPool(random, size, clusters: 5, dimension: 16, r => (r.Next(3) == 0 ? 1 : 0) | (r.Next(3) == 0 ? 2 : 0));
        var outside = RandomPool(random, 8, clusters: 3, dimension: 16, _ => 1).Select(c => c with { ItemId = "x" + c.ItemId });
        IReadOnlyList<ScoredItem> candidates = [.. pool.Where(c => (c.CappedTags & 1) != 0).Take(4).Concat(outside).OrderByDescending(c => c.Similarity)
            .Select(c => c with { Slot = "sale" })];
        TagCap[] caps = [new("sale", 2), new("new", 3)];
        (int, IReadOnlyList<ScoredItem>)[] slots = [(2, candidates), (4, candidates), (7, candidates)];

        var picked = DiverseSelection.Select(pool, k, lambda, caps, slots: slots);

        Assert.Equal(Exhaustive(pool, k, lambda, caps, slots: slots), picked.Select(c => c.ItemId));
        Assert.True(picked.Count(c => (c.CappedTags & 1) != 0) <= 2);
        Assert.True(picked.Count(c => (c.CappedTags & 2) != 0) <= 3);
        // Every candidate of the slots counts against the first cap: at most two places are the slots'.
        Assert.InRange(picked.Count(c => c.Slot is not null), 1, 2);
    }

    [Fact]
    public void The_pick_after_a_slot_gives_way_to_an_item_unlike_the_slots_item()
    {
        // b is almost as relevant as a and nearly a copy of the slot's item; c is less relevant and unlike it.
        ScoredItem[] pool = [Item("a", 10f, 1f, 0f, 0f), Item("b", 9.9f, 0f, 1f, 0f), Item("c", 9f, 0f, 0f, 1f)];
        (int, IReadOnlyList<ScoredItem>)[] slots = [(2, [Item("s", 1f, 0f, 1f, 0.01f) with { Slot = "sponsored" }])];
        Assert.Equal(["a", "b", "c"], DiverseSelection.Select(pool, 3, 0.5f).Select(c => c.ItemId));
        Assert.Equal(["a", "s", "c"], DiverseSelection.Select(pool, 3, 0.5f, slots: slots).Select(c => c.ItemId));
        // A slot at the top is shown before anything is picked: the first pick keeps apart from it too.
        Assert.Equal(["s", "a", "c"], DiverseSelection.Select(pool, 3, 0.5f, slots: [(1, slots[0].Item2)]).Select(c => c.ItemId));
    }

    [Fact]
    public void A_slot_whose_candidates_are_all_listed_above_it_is_picked_as_any_other_place_and_the_list_ends_with_the_pool()
    {
        ScoredItem[] pool = [Item("a", 10f, 1f, 0f), Item("b", 9f, 0f, 1f)];
        // a is the slot's one candidate and already listed; the pool has no third item for place 3.
        Assert.Equal(["a", "b"], DiverseSelection.Select(pool, 3, 0.5f, slots: [(2, [pool[0] with { Slot = "t" }])]).Select(c => c.ItemId));
        Assert.Null(DiverseSelection.Select(pool, 3, 0.5f, slots: [(2, [pool[0] with { Slot = "t" }])])[1].Slot);
        // A slot's place past the pool's end is not reached: the list ends where the pool runs out.
        Assert.Equal(["a", "b"], DiverseSelection.Select(pool, 4, 0.5f, slots: [(4, [Item("s", 1f, 1f, 1f) with { Slot = "t" }])]).Select(c => c.ItemId));
    }
}
