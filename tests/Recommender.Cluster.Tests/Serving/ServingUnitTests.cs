using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Recommender.Abstractions;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Grains.Catalogue;
using Recommender.Grains.Inference;
using Recommender.Grains.Items;
using Recommender.Grains.Popularity;
using Recommender.Grains.Ranking;
using Recommender.Model.Onnx;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>The plain classes behind serving: tag-filtered scans, decayed counts, the activation and item-write plans and the encode batcher.</summary>
public sealed class ServingUnitTests
{
    [Fact]
    public void A_tag_filter_applies_during_the_scan_so_k_tagged_rows_come_back()
    {
        var matrix = new ItemMatrix(2, normalise: false);
        for (var i = 0; i < 10; i++)
            matrix.Upsert($"i{i}", $"Item {i}", [1f + i, 0f], i % 3 == 0 ? ["Drama"] : ["Action"]);
        // The best rows overall are untagged for drama (i9, i8, i7...), yet 3 drama rows come back, best first.
        Assert.Equal(["i9", "i6", "i3"], matrix.TopK([1f, 0f], 3, [], ["drama"], []).Select(s => s.ItemId));
        Assert.Equal(["i6", "i3", "i0"], matrix.TopK([1f, 0f], 5, ["i9"], ["DRAMA"], []).Select(s => s.ItemId));
        Assert.Empty(matrix.TopK([1f, 0f], 3, [], ["Comedy"], []));
        matrix.Upsert("i8", "Item 8", default, ["Comedy"]);
        Assert.Equal(["i8"], matrix.TopK([1f, 0f], 3, [], ["comedy"], []).Select(s => s.ItemId));
        Assert.DoesNotContain("i8", matrix.TopK([1f, 0f], 10, [], ["Action"], []).Select(s => s.ItemId));
    }

    [Fact]
    public void Several_tags_list_rows_carrying_any_of_them_and_left_out_tags_bar_rows_carrying_any()
    {
        var matrix = new ItemMatrix(2, normalise: false);
        string[][] tags = [["Drama"], ["Action", "Kids"], ["Comedy", "Kids"], ["Horror"]];
        for (var i = 0; i < 12; i++)
            matrix.Upsert($"i{i}", $"Item {i}", [1f + i, 0f], tags[i % 4]);
        string[] Top(int k, string[] any, string[] none) => [.. matrix.TopK([1f, 0f], k, [], any, none).Select(s => s.ItemId)];
        Assert.Equal(["i11", "i8", "i7", "i4", "i3", "i0"], Top(10, ["horror", "DRAMA"], []));
        Assert.Equal(["i11", "i8", "i7"], Top(3, ["horror", "DRAMA", "no-such-tag"], []));
        Assert.Equal(["i11", "i8", "i7", "i4", "i3", "i0"], Top(10, [], ["kids", "comedy"]));
        // Kids without comedy; and a tag both asked for and left out lists nothing.
        Assert.Equal(["i9", "i5", "i1"], Top(10, ["Kids"], ["Comedy"]));
        Assert.Equal(["i10", "i9", "i6", "i5", "i2", "i1"], Top(10, ["Kids", "Kids"], ["no-such-tag"]));
        Assert.Empty(Top(10, ["Horror"], ["horror"]));
        Assert.Empty(Top(10, ["no-such-tag", "nor-this"], []));
        // The scan still fills k from the rows that pass.
        Assert.Equal(["i11", "i10", "i9", "i7"], Top(4, [], ["Drama"]));
    }

    [Fact]
    public void Tag_filters_match_ignoring_case_and_travel_as_the_first_tag_and_the_list()
    {
        Assert.True(TagMatch.Matches(null, [], []));
        Assert.True(TagMatch.Matches(["Kids", "Comedy"], ["comedy", "horror"], []));
        Assert.False(TagMatch.Matches(["Kids", "Comedy"], ["horror"], []));
        Assert.False(TagMatch.Matches(["Kids", "Comedy"], [], ["KIDS"]));
        Assert.False(TagMatch.Matches(null, ["kids"], []));
        Assert.True(TagMatch.Matches(null, [], ["kids"]));
        Assert.Equal(((string?)null, (string[]?)null), TagMatch.Fields([]));
        Assert.Equal(("a", (string[]?)null), TagMatch.Fields(["a"]));
        var (first, all) = TagMatch.Fields(["a", "b"]);
        Assert.Equal("a", first);
        Assert.Equal(["a", "b"], all!);
        Assert.Equal(["a", "b"], TagMatch.AnyOf(first, all));
        Assert.Equal(["a"], TagMatch.AnyOf("a", null));
        Assert.Empty(TagMatch.AnyOf(null, null));
    }

    [Fact]
    public void An_unlisted_row_is_skipped_until_an_entry_lists_it_and_hidden_rows_stay_skipped()
    {
        var matrix = new ItemMatrix(2, normalise: false);
        matrix.AddUnlisted("ghost", [9f, 0f]);
        matrix.Upsert("a", "A", [3f, 0f]);
        matrix.Upsert("b", "B", [2f, 0f]);
        matrix.AddUnlisted("c", [1f, 0f]);
        Assert.Equal(["a", "b"], matrix.TopK([1f, 0f], 3, []).Select(s => s.ItemId));
        matrix.SetHidden(new HashSet<string> { "a" });
        Assert.Equal(["b"], matrix.TopK([1f, 0f], 3, []).Select(s => s.ItemId));
        Assert.Equal(2, matrix.UnlistedCount);

        // Listing keeps the row's vector and takes the entry's title.
        matrix.Upsert("ghost", "Ghost", default);
        Assert.False(matrix.IsUnlisted("ghost"));
        Assert.Equal([("ghost", "Ghost"), ("b", "B")], matrix.TopK([1f, 0f], 3, []).Select(s => (s.ItemId, s.Title)));
        Assert.True(matrix.IsUnlisted("c"));
        Assert.Throws<ArgumentException>(() => matrix.AddUnlisted("a", [1f, 1f]));
    }

    [Fact]
    public void Decayed_counts_halve_every_half_life_and_rank_recent_interest_first()
    {
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var counts = new DecayedCounts(TimeSpan.FromHours(1));
        counts.Add("old", 8, t0);
        counts.Add("new", 3, t0.AddHours(2));
        Assert.Equal(2.0, counts.ScoreOf("old", t0.AddHours(2)), 9);
        Assert.Equal(["new", "old"], counts.Top(5, t0.AddHours(2)).Select(p => p.ItemId));
        counts.Add("old", 2, t0.AddHours(2));
        Assert.Equal(["old", "new"], counts.Top(5, t0.AddHours(2)).Select(p => p.ItemId));
        counts.Prune(t0.AddHours(40));
        Assert.Equal(0, counts.Count);
        Assert.Equal(0.5, DecayedCounts.Decay(TimeSpan.FromHours(1), TimeSpan.FromHours(1)), 12);
    }

    [Fact]
    public void Events_taken_back_cancel_what_they_added_whenever_each_was_counted_and_a_score_never_goes_below_zero()
    {
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(t0);
        var options = Microsoft.Extensions.Options.Options.Create(new Recommender.Grains.ServingOptions());
        var halfLife = options.Value.Popularity.HalfLife;
        var accumulator = new PopularityAccumulator(options, clock);
        var counts = new DecayedCounts(halfLife);
        void Flush() { foreach (var (id, weight) in accumulator.Drain()) counts.Add(id, weight, clock.GetUtcNow()); }
        UserEvent View(string item, TimeSpan before) => new(item, EventType.View, clock.GetUtcNow() - before, Guid.NewGuid().ToString("N"));

        var kept = View("a", TimeSpan.FromMinutes(5));
        var takenBack = View("a", TimeSpan.FromMinutes(1));
        accumulator.Record([kept, takenBack, View("b", TimeSpan.Zero)]);
        Flush();
        // A half-life later the second view of "a" is taken back: what stays is the first view's weight alone.
        clock.Advance(halfLife);
        accumulator.Retract([takenBack]);
        Flush();
        Assert.Equal(DecayedCounts.Decay(clock.GetUtcNow() - kept.Timestamp, halfLife), counts.ScoreOf("a", clock.GetUtcNow()), 9);
        // A taking back of more than was counted leaves zero, and the item drops out when pruned.
        accumulator.Retract([kept, kept]);
        Flush();
        Assert.Equal(0, counts.ScoreOf("a", clock.GetUtcNow()));
        counts.Prune(clock.GetUtcNow());
        Assert.Equal(["b"], counts.Top(5, clock.GetUtcNow()).Select(p => p.ItemId));
    }

    [Fact]
    public void An_activation_plan_keeps_model_items_in_place_and_re_places_only_fitting_added_vectors()
    {
        var target = new ActiveModel("v2", 2, "dot", 3, 4, DateTimeOffset.UnixEpoch);
        var vocabulary = new Dictionary<string, int> { ["a"] = 1, ["b"] = 2, ["c"] = 3, ["d"] = 4 };
        var fits = VectorBytes.FromFloats([1f, 2f]);
        var plan = ShardPlan.Build(target, vocabulary,
        [
            new ShardEntry("b", "Bee", VectorBytes.FromFloats([9f, 9f]), ["Tag"]),
            new ShardEntry("x", "Added", fits),
            new ShardEntry("y", "Too long", VectorBytes.FromFloats([1f, 2f, 3f])),
            new ShardEntry("z", "Old model item", null),
        ]);
        // "b" is dense 2: shard (2 - 1) mod 3 = 1, keeping title and tags but not the old vector.
        var b = Assert.Single(plan.PerShard[1], e => e.ItemId == "b");
        Assert.Equal("Bee", b.Title);
        Assert.Null(b.Vector);
        Assert.Equal(["Tag"], b.Tags!);
        // Shard rows from the package: 2, 1, 1; "x" goes to the first of the emptiest.
        Assert.Equal(new ShardEntry("x", "Added", fits), Assert.Single(plan.PerShard[1], e => e.ItemId == "x"));
        Assert.Equal([2, 2, 1], plan.ShardRows);
        Assert.Equal(["y"], plan.NotRecommendable);
        Assert.DoesNotContain(plan.PerShard.SelectMany(s => s), e => e.ItemId is "y" or "z");
    }

    [Fact]
    public void An_item_write_plan_keeps_trained_and_added_items_in_their_shards_and_puts_new_ones_where_there_is_room()
    {
        var vocabulary = new Dictionary<string, int> { ["a"] = 1, ["b"] = 2, ["c"] = 3, ["d"] = 4 };
        var added = new Dictionary<string, AddedPlacement> { ["x"] = new(2, 7), ["t"] = new(0, 5, FromText: true) };
        var shardRows = new[] { 2, 2, 1 };
        var given = VectorBytes.FromFloats([9f, 9f]);
        var vector = VectorBytes.FromFloats([1f, 2f]);
        var plan = ItemWritePlan.Build(3, vocabulary, added, shardRows,
        [
            new ShardEntry("b", "Bee", given, Projected: true),
            new ShardEntry("n1", "New one", vector),
            new ShardEntry("n2", "New two", vector),
            new ShardEntry("n1", "New one, renamed", null),
            new ShardEntry("x", "Added", null),
            new ShardEntry("t", "From text", null),
            new ShardEntry("q", "No vector anywhere", null),
        ]);
        // "b" is dense 2: shard (2 - 1) mod 3 = 1, its trained row serving instead of the vector given with it. "n1" goes
        // to the emptiest shard (2), "n2" to the first of the then emptiest (0), and n1's second write follows its first.
        Assert.Equal([(2, "n2"), (5, "t")], plan.PerShard[0].Select(p => (p.Index, p.Entry.ItemId)));
        var b = Assert.Single(plan.PerShard[1]);
        Assert.Equal((0, new ShardEntry("b", "Bee", null)), b);
        Assert.Equal([(1, "n1"), (3, "n1"), (4, "x")], plan.PerShard[2].Select(p => (p.Index, p.Entry.ItemId)));
        Assert.Equal([3, 2, 2], shardRows);

        var (placements, changed) = plan.Resolve("v1", [[10, 5], [1], [8, 8, 7]]);
        Assert.Equal<IEnumerable<ItemPlacement?>>(
            [
                new ItemPlacement("v1", 1, 1, 2), new ItemPlacement("v1", 2, 8, 0), new ItemPlacement("v1", 0, 10, 0),
                new ItemPlacement("v1", 2, 8, 0), new ItemPlacement("v1", 2, 7, 0), new ItemPlacement("v1", 0, 5, 0, FromText: true), null,
            ],
            placements);
        // Only the new placements are stored again: "x" and "t" are where they were, and "t" stays from text.
        Assert.Equal(["n2", "n1", "n1"], changed.Select(c => c.Key));
        Assert.All(changed, c => Assert.False(c.Value.FromText));
        Assert.Equal(new AddedPlacement(0, 10), changed[0].Value);

        // A placement that moved is stored again.
        var moved = ItemWritePlan.Build(3, vocabulary, added, [3, 3, 3], [new ShardEntry("x", "Added", vector)]);
        Assert.Equal([new KeyValuePair<string, AddedPlacement>("x", new AddedPlacement(2, 9))], moved.Resolve("v1", [[], [], [9]]).Changed);
    }

    [Fact]
    public void Writes_replayed_into_a_new_version_are_merged_per_item_keeping_what_a_later_write_leaves_out()
    {
        var first = VectorBytes.FromFloats([1f, 2f]);
        var second = VectorBytes.FromFloats([3f, 4f]);
        var text = VectorBytes.FromFloats([5f]);
        var latest = ItemWritePlan.Latest(
        [
            [new ShardEntry("a", "A", first, ["Old"], text), new ShardEntry("b", "B", first)],
            [new ShardEntry("a", "A renamed", null)],
            [new ShardEntry("b", "B", second, ["New"]), new ShardEntry("c", "C", null)],
        ]);
        Assert.Equal(
            [new ShardEntry("a", "A renamed", first, ["Old"], text), new ShardEntry("b", "B", second, ["New"]), new ShardEntry("c", "C", null)],
            latest,
            (x, y) => x.ItemId == y.ItemId && x.Title == y.Title && x.Vector == y.Vector && x.TextVector == y.TextVector
                && (x.Tags ?? []).SequenceEqual(y.Tags ?? []));
    }

    [Fact]
    public async Task Concurrent_encodes_are_gathered_into_batches_with_the_same_vectors_as_one_by_one()
    {
        var root = Path.Combine(Path.GetTempPath(), "recommender-tests", "batcher-" + Guid.NewGuid().ToString("N"));
        try
        {
            var package = TestPackages.Baseline(Path.Combine(SmallCatalogue.Write(root), "ratings.csv"), "batcher", 16);
            using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
            var sizes = new ConcurrentBag<int>();
            using var listener = new MeterListener();
            listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == ServingMetrics.MeterName && instrument.Name == "recommender.inference.batch.size") l.EnableMeasurementEvents(instrument); };
            listener.SetMeasurementEventCallback<int>((_, value, _, _) => sizes.Add(value));
            listener.Start();
            using var encoder = new OnnxEncoder(package, new OnnxThreading(1));
            using var batcher = new EncodeBatcher("batcher", () => encoder, new InferenceOptions { MaxBatch = 8, BatchWindow = TimeSpan.FromMilliseconds(50) }, new ServingMetrics(services.GetRequiredService<IMeterFactory>()));

            var histories = Enumerable.Range(0, 20).Select(i => Enumerable.Range(1 + i, 5 + i % 7).ToArray()).ToArray();
            var vectors = await Task.WhenAll(histories.Select(h => Task.Run(() => batcher.EncodeAsync(h))));

            for (var i = 0; i < histories.Length; i++)
            {
                var alone = encoder.Encode([histories[i]]);
                Assert.Equal(alone.Length, vectors[i].Length);
                for (var d = 0; d < alone.Length; d++) Assert.Equal(alone[d], vectors[i][d], 1e-5f);
            }
            Assert.Equal(20, sizes.Sum());
            Assert.All(sizes, s => Assert.InRange(s, 1, 8));
            Assert.True(sizes.Count < 20, $"20 concurrent requests ran as {sizes.Count} batches");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Users_are_drawn_for_a_candidate_by_a_fixed_number_so_a_share_holds_steady_and_grows_without_moving_anyone_back()
    {
        var users = Enumerable.Range(0, 20_000).Select(i => $"user-{i}").ToArray();
        var draws = users.Select(u => ServingModel.Draw("v2", u)).ToArray();
        Assert.All(draws, d => Assert.InRange(d, 0, 1 - 1e-12));
        Assert.Equal(draws, users.Select(u => ServingModel.Draw("v2", u)));
        // About the share, within four standard errors (0.0032 at 0.1 over 20,000 users).
        Assert.InRange(draws.Count(d => d < 0.1) / (double)users.Length, 0.087, 0.113);
        Assert.InRange(draws.Count(d => d < 0.5) / (double)users.Length, 0.485, 0.515);
        // Another version draws another split: about a tenth of a 0.1 share overlaps the first.
        var other = users.Select(u => ServingModel.Draw("v3", u)).ToArray();
        var both = users.Where((_, i) => draws[i] < 0.1 && other[i] < 0.1).Count();
        Assert.InRange(both, 100, 300);
        // The version and the id are kept apart: ("v2", "1:x") and ("v2:1", "x") are other pairs.
        Assert.NotEqual(ServingModel.Draw("v", "2:x"), ServingModel.Draw("v:2", "x"));

        var active = new ActiveModel("v1", 4, "cosine", 2, 10, DateTimeOffset.UnixEpoch);
        var candidate = new ActiveModel("v2", 4, "cosine", 2, 10, DateTimeOffset.UnixEpoch);
        var none = new CatalogueSnapshot(1, active, [], true, 10);
        Assert.All(users.Take(100), u => Assert.Same(active, ServingModel.For(none, u)));
        var tenth = none with { Candidate = new ModelCandidate(candidate, 0.1) };
        var half = none with { Candidate = new ModelCandidate(candidate, 0.5) };
        var all = none with { Candidate = new ModelCandidate(candidate, 1) };
        for (var i = 0; i < 2000; i++)
        {
            var atTenth = ServingModel.For(tenth, users[i]);
            Assert.Same(draws[i] < 0.1 ? candidate : active, atTenth);
            // Raising the share keeps everyone already on the candidate there.
            if (ReferenceEquals(atTenth, candidate)) Assert.Same(candidate, ServingModel.For(half, users[i]));
            Assert.Same(candidate, ServingModel.For(all, users[i]));
        }
    }
}
