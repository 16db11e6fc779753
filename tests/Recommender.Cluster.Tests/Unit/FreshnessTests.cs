using Recommender.Abstractions;
using Recommender.Api.Validation;
using Recommender.Grains.Items;
using Recommender.Grains.Ranking;

namespace Recommender.Cluster.Tests.Unit;

public sealed class FreshnessTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void An_items_factor_halves_its_excess_over_one_each_half_life_and_an_item_without_a_time_keeps_its_weight()
    {
        var fresh = new Freshness(TimeSpan.FromHours(6), 5);
        Assert.Equal(Math.Log(5), fresh.LogFactor(Now, Now), 12);
        Assert.Equal(Math.Log(3), fresh.LogFactor(Now.AddHours(-6), Now), 12);
        Assert.Equal(Math.Log(2), fresh.LogFactor(Now.AddHours(-12), Now), 12);
        Assert.Equal(Math.Log(1 + 4 * Math.Pow(2, -10)), fresh.LogFactor(Now.AddHours(-60), Now), 12);
        // Not yet available counts as new; no time, no factor.
        Assert.Equal(Math.Log(5), fresh.LogFactor(Now.AddHours(1), Now), 12);
        Assert.Equal(0, fresh.LogFactor(null, Now));
        Assert.Equal(Math.Log(5), fresh.MaxLogFactor, 12);
        // Held back: new items weigh a fifth, old ones towards 1, and nothing rises.
        var held = new Freshness(TimeSpan.FromHours(6), 0.2);
        Assert.Equal(Math.Log(0.6), held.LogFactor(Now.AddHours(-6), Now), 12);
        Assert.Equal(0, held.MaxLogFactor);
    }

    [Theory]
    [InlineData("6h:3", 360, 3, "6h:3")]
    [InlineData("90m:2", 90, 2, "90m:2")]
    [InlineData("1.5d:0.5", 2160, 0.5, "36h:0.5")]
    [InlineData("48H:100", 2880, 100, "2d:100")]
    [InlineData("1m:0.01", 1, 0.01, "1m:0.01")]
    [InlineData("0.75m:2", 0.75, 2, null)]
    [InlineData("6h", 0, 0, null)]
    [InlineData("6:3", 0, 0, null)]
    [InlineData("6w:3", 0, 0, null)]
    [InlineData("366d:3", 0, 0, null)]
    [InlineData("6h:0.001", 0, 0, null)]
    [InlineData("6h:x", 0, 0, null)]
    [InlineData("6h:2:3", 0, 0, null)]
    public void Fresh_is_a_half_life_with_its_unit_and_a_factor_written_back_in_its_largest_whole_unit(string text, double minutes, double factor, string? written)
    {
        var errors = new ValidationErrors();
        var fresh = Fields.Fresh(text, errors);
        if (written is null)
        {
            Assert.Null(fresh);
            Assert.Equal(["fresh"], errors.ToDictionary().Keys);
            return;
        }
        Assert.False(errors.Any);
        Assert.Equal(new Freshness(TimeSpan.FromMinutes(minutes), factor), fresh);
        Assert.Equal(written, Fields.Format(fresh!));
        Assert.Equal(fresh, Fields.Fresh(Fields.Format(fresh!), new ValidationErrors()));
        // maxAge takes the same durations.
        Assert.Equal(fresh!.HalfLife, Fields.MaxAge(text[..text.LastIndexOf(':')], new ValidationErrors()));
    }

    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 0.3)]
    [InlineData(3, 40)]
    public void A_scan_with_a_fresh_boost_returns_the_rows_best_by_similarity_plus_their_freshness_term(int seed, double factor)
    {
        var random = new Random(seed);
        var matrix = new ItemMatrix(8, normalise: true);
        var now = DateTimeOffset.UtcNow;
        var since = new Dictionary<string, DateTimeOffset?>();
        for (var i = 0; i < 300; i++)
        {
            var id = $"i{i:D3}";
            since[id] = random.Next(3) == 0 ? null : now.AddHours(-random.NextDouble() * 72);
            matrix.Upsert(id, id, [.. Enumerable.Range(0, 8).Select(_ => (float)(random.NextDouble() * 2 - 1))], ["all"], since[id]);
        }
        var fresh = new Freshness(TimeSpan.FromHours(12), factor);
        const double temperature = 0.1;
        float[] query = [.. Enumerable.Range(0, 8).Select(_ => (float)(random.NextDouble() * 2 - 1))];

        var top = matrix.TopK(query, 20, [], [], [], fresh: (fresh, temperature));

        var expected = Enumerable.Range(0, 300).Select(row => (Row: row, Id: $"i{row:D3}"))
            .Select(r => (r.Id, Relevance: System.Numerics.Tensors.TensorPrimitives.Dot(matrix.Vector(r.Row), query) + temperature * fresh.LogFactor(since[r.Id], now)))
            .OrderByDescending(r => r.Relevance).Take(20).ToArray();
        Assert.Equal(expected.Select(r => r.Id), top.Select(t => t.ItemId));
        // Within a tolerance, not to a number of decimals: the scan reads the clock a moment after this test did, which
        // moves a freshness term by about 1e-7, and two values that close can round to different fourth decimals.
        foreach (var (item, want) in top.Zip(expected))
        {
            Assert.Equal(want.Relevance, item.Relevance, 1e-4);
            Assert.Equal(since[item.ItemId] is null ? 0 : temperature * fresh.LogFactor(since[item.ItemId], now), item.Boost, 1e-4);
        }
        // A write without a time takes the row's away.
        var first = top[0].ItemId;
        matrix.Upsert(first, first, []);
        Assert.Equal(0, matrix.TopK(query, 300, [], [], [], fresh: (fresh, temperature)).Single(t => t.ItemId == first).Boost);
    }

    [Fact]
    public void A_scan_with_a_max_age_ranks_only_rows_dated_within_it_and_refuses_older_or_undated_pins_as_too_old()
    {
        var random = new Random(5);
        var matrix = new ItemMatrix(4, normalise: false);
        var now = DateTimeOffset.UtcNow;
        var since = new Dictionary<string, DateTimeOffset?>();
        for (var i = 0; i < 400; i++)
        {
            var id = $"i{i:D3}";
            since[id] = i % 5 == 0 ? null : now.AddHours(-random.NextDouble() * 96);
            matrix.Upsert(id, id, [.. Enumerable.Range(0, 4).Select(_ => (float)random.NextDouble())], i % 10 == 3 ? ["odd", "rare"] : [i % 2 == 0 ? "even" : "odd"], since[id]);
        }
        float[] query = [1f, 0.5f, 0.25f, 0.1f];
        bool Recent(string id) => since[id] >= now.AddHours(-24);
        IEnumerable<string> BruteForce(Func<string, bool> keep) => Enumerable.Range(0, 400).Select(row => (Row: row, Id: $"i{row:D3}"))
            .Where(r => keep(r.Id))
            .OrderByDescending(r => System.Numerics.Tensors.TensorPrimitives.Dot(matrix.Vector(r.Row), query)).Select(r => r.Id);

        // A fifth of the rows within a day (tested as they enter the heap), a twentieth within six hours (walked), within a
        // large tag (tested) and a small one (its recent rows walked).
        Assert.Equal(BruteForce(Recent).Take(15), matrix.TopK(query, 15, [], [], [], maxAge: TimeSpan.FromDays(1)).Select(t => t.ItemId));
        Assert.Equal(BruteForce(id => since[id] >= now.AddHours(-6)).Take(15), matrix.TopK(query, 15, [], [], [], maxAge: TimeSpan.FromHours(6)).Select(t => t.ItemId));
        var evenRecent = matrix.TopK(query, 15, [], ["even"], [], maxAge: TimeSpan.FromDays(1));
        Assert.Equal(BruteForce(id => Recent(id) && int.Parse(id[1..]) % 2 == 0).Take(15), evenRecent.Select(t => t.ItemId));
        Assert.Equal(BruteForce(id => since[id] >= now.AddHours(-6) && int.Parse(id[1..]) % 2 == 0).Take(15),
            matrix.TopK(query, 15, [], ["even"], [], maxAge: TimeSpan.FromHours(6)).Select(t => t.ItemId));
        Assert.Equal(BruteForce(id => Recent(id) && int.Parse(id[1..]) % 10 == 3).Take(15),
            matrix.TopK(query, 15, [], ["rare"], [], maxAge: TimeSpan.FromDays(1)).Select(t => t.ItemId));

        // Pins: an old one and an undated one are too old; one outside the tag stays outsideTags; a recent one is placed.
        var (old, undated, recentOdd, recentEven) = (since.First(s => s.Value < now.AddDays(-2) && int.Parse(s.Key[1..]) % 2 == 0).Key, "i000",
            since.First(s => s.Value is not null && Recent(s.Key) && int.Parse(s.Key[1..]) % 2 == 1).Key, since.First(s => s.Value is not null && Recent(s.Key) && int.Parse(s.Key[1..]) % 2 == 0).Key);
        var pinned = matrix.TopK(query, 5, [], ["even"], [], pinned: [old, undated, recentOdd, recentEven], maxAge: TimeSpan.FromDays(1)).Where(t => t.Pinned).ToArray();
        Assert.Equal(PinRefusal.TooOld, pinned.Single(p => p.ItemId == old).Refusal);
        Assert.Equal(PinRefusal.TooOld, pinned.Single(p => p.ItemId == undated).Refusal);
        Assert.Equal(PinRefusal.OutsideTags, pinned.Single(p => p.ItemId == recentOdd).Refusal);
        Assert.Null(pinned.Single(p => p.ItemId == recentEven).Refusal);
        var walked = matrix.TopK(query, 5, [], [], [], pinned: [old, recentEven], maxAge: TimeSpan.FromHours(6)).Where(t => t.Pinned).ToArray();
        Assert.Equal(PinRefusal.TooOld, walked.Single(p => p.ItemId == old).Refusal);
        // Nothing within the age: no ranked row.
        Assert.Empty(matrix.TopK(query, 5, [], [], [], maxAge: TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void The_latest_rows_are_the_newest_a_scan_may_return_under_the_filters_ties_by_id()
    {
        var random = new Random(6);
        var matrix = new ItemMatrix(2, normalise: false);
        var now = DateTimeOffset.UtcNow;
        var since = new Dictionary<string, DateTimeOffset?>();
        // Rows in an order unlike their ids', as a shard's rows are in the order their items came.
        foreach (var i in Enumerable.Range(0, 300).OrderBy(_ => random.Next()).ToArray())
        {
            var id = $"i{i:D3}";
            // Undated, a few not available yet, and whole hours back so that times tie; the two hidden and the two
            // excluded below are the newest.
            since[id] = i is >= 1 and <= 5 ? now.AddMinutes(-i) : i % 7 == 0 ? null : i % 11 == 0 ? now.AddHours(2) : now.AddHours(-random.Next(0, 48));
            matrix.Upsert(id, id, [1f, 0f], [i % 3 == 0 ? "three" : "other"], since[id]);
        }
        matrix.AddUnlisted("model-only", [1f, 0f]);
        matrix.SetHidden(new HashSet<string> { "i001", "i002" });
        string[] exclude = ["i004", "i005"];
        IEnumerable<string> Expected(Func<string, bool> keep) => since
            .Where(s => s.Value is { } t && t <= now && !new[] { "i001", "i002", "i004", "i005" }.Contains(s.Key) && keep(s.Key))
            .OrderByDescending(s => s.Value).ThenBy(s => s.Key, StringComparer.Ordinal).Select(s => s.Key);

        Assert.Equal(Expected(_ => true).Take(25), matrix.Latest(25, exclude, [], []).Select(r => r.ItemId));
        Assert.Equal(Expected(id => int.Parse(id[1..]) % 3 == 0).Take(10), matrix.Latest(10, exclude, ["three"], []).Select(r => r.ItemId));
        Assert.Equal(Expected(id => int.Parse(id[1..]) % 3 != 0).Take(10), matrix.Latest(10, exclude, [], ["three"]).Select(r => r.ItemId));
        // Items exactly a day back fall just outside: the scan reads the clock after this test did.
        Assert.Equal(Expected(id => since[id] > now.AddHours(-24)), matrix.Latest(300, exclude, [], [], TimeSpan.FromDays(1)).Select(r => r.ItemId));
        Assert.All(matrix.Latest(5, [], [], []), r => Assert.Equal(since[r.ItemId], r.AvailableFrom));
        Assert.Empty(matrix.Latest(5, [], ["no-such-tag"], []));

        // A row of the oldest kept time that comes after the list is full still takes the place of a larger id.
        var tied = new ItemMatrix(2, normalise: false);
        foreach (var id in new[] { "b", "c", "a" }) tied.Upsert(id, id, [1f, 0f], [], now.AddHours(-1));
        Assert.Equal(["a", "b"], tied.Latest(2, [], [], []).Select(r => r.ItemId));
    }

    [Theory]
    [InlineData(1, 10)]
    [InlineData(2, 25)]
    [InlineData(3, 4)]
    public void The_newest_items_of_several_shards_under_caps_are_the_walk_over_every_row_newest_first(int seed, int depth)
    {
        // Each row of one of six sources (one source holds most of the newest rows, so that its cap passes over many of
        // them) and some of a section.
        var (shards, rows) = DatedShards(seed, (random, minutes) =>
        {
            var source = minutes < 120 && random.Next(3) > 0 ? "source:wire" : $"source:s{random.Next(5)}";
            return random.Next(4) == 0 ? [source, "section:sport"] : [source];
        });
        foreach (var caps in new TagCap[][] { [new("source:", 2, Each: true)], [new("source:wire", 1), new("section:sport", 3)], [new("source:wire", 1), new("source:s1", 1)] })
        {
            // Every row, newest first, walked under the caps.
            var expected = TagCaps.Take(rows.OrderByDescending(r => r.At).ThenBy(r => r.Id, StringComparer.Ordinal).ToList(),
                r => TagCaps.Marks(caps, r.Tags), caps, depth).Select(r => r.Id);
            // What the search does: read each shard, deeper while the walk cannot be sure; the shards send every row
            // read, or only those the caps may take.
            foreach (var survivors in new[] { false, true })
            {
                var asked = NewestItems.FirstRead(depth, capped: true);
                var (reads, sent) = (0, 0);
                while (true)
                {
                    reads++;
                    var answers = shards.Select(s => (IReadOnlyList<ScoredItem>)s.Latest(asked, [], [], [], caps: caps, capSurvivors: survivors)).ToArray();
                    sent += answers.Sum(a => a.Count);
                    var walk = NewestItems.Walk(answers, asked, depth, [], deepSlots: false, caps, taken: null);
                    if (walk.Next == NextRead.None)
                    {
                        Assert.Equal(expected, walk.Filled.Select(r => r.Item.ItemId));
                        break;
                    }
                    Assert.Equal(NextRead.Deeper, walk.Next);
                    asked = TagCaps.Deeper(asked);
                }
                Assert.True(reads < 6, $"{reads} reads");
                if (survivors) Assert.True(sent < 4 * (depth + caps.Length * 6 + 1) * reads, $"{sent} rows sent in {reads} reads");
            }
        }
        // Uncapped, one read of the newest gives them.
        var newest = NewestItems.Walk([.. shards.Select(s => (IReadOnlyList<ScoredItem>)s.Latest(depth, [], [], []))], depth, depth, [], deepSlots: false, null, null);
        Assert.Equal(NextRead.None, newest.Next);
        Assert.Equal(rows.OrderByDescending(r => r.At).ThenBy(r => r.Id, StringComparer.Ordinal).Take(depth).Select(r => r.Id), newest.Filled.Select(r => r.Item.ItemId));
    }

    private sealed record DatedRow(string Id, DateTimeOffset At, string[] Tags);

    /// <summary>
    /// Four shards holding 600 rows between them, each available a whole number of minutes ago within the last ten hours (so
    /// that times tie), tagged by <paramref name="tagsAt"/> from its age.
    /// </summary>
    private static (ItemMatrix[] Shards, List<DatedRow> Rows) DatedShards(int seed, Func<Random, int, string[]> tagsAt)
    {
        var random = new Random(seed);
        var now = DateTimeOffset.UtcNow;
        var shards = Enumerable.Range(0, 4).Select(_ => new ItemMatrix(2, normalise: false)).ToArray();
        var rows = new List<DatedRow>();
        for (var i = 0; i < 600; i++)
        {
            var minutes = random.Next(0, 600);
            var row = new DatedRow($"i{i:D3}", now.AddMinutes(-minutes), tagsAt(random, minutes));
            rows.Add(row);
            shards[random.Next(shards.Length)].Upsert(row.Id, row.Id, [1f, 0f], row.Tags, row.At);
        }
        return (shards, rows);
    }

    [Theory]
    [InlineData(1, 10)]
    [InlineData(2, 25)]
    [InlineData(5, 6)]
    public void Slots_in_the_newest_items_of_several_shards_under_caps_are_filled_as_in_the_walk_over_every_row(int seed, int depth)
    {
        // As above, with sports rare among the newest rows, each of them from the wire source, which holds most of them:
        // under its cap a sports slot finds an item it lets in only well below the rows first read.
        var (shards, rows) = DatedShards(seed, (random, minutes) =>
        {
            var sport = random.Next(minutes < 300 ? 20 : 4) == 0;
            var source = (minutes < 120 && random.Next(3) > 0) || (sport && minutes < 200) ? "source:wire" : $"source:s{random.Next(5)}";
            return sport ? [source, "section:sport"] : [source];
        });
        var newestFirst = rows.OrderByDescending(r => r.At).ThenBy(r => r.Id, StringComparer.Ordinal).ToList();
        TagSlot[] slots = [new("section:sport", 2), new("section:sport", 4), new("source:wire", 3)];
        foreach (var caps in new TagCap[]?[] { null, [new("source:wire", 1)], [new("source:", 1, Each: true)], [new("source:wire", 1), new("section:sport", 1)] })
        {
            // Every row walked newest first, each slot taking the newest of its tag the caps let in.
            var expected = TagSlots.Fill(newestFirst, slots, tag => newestFirst.Where(r => r.Tags.Contains(tag)), r => r.Id, depth,
                r => TagCaps.Marks(caps ?? [], r.Tags), caps, null);
            foreach (var survivors in new[] { false, true })
            {
                var (asked, deepSlots, reads) = (NewestItems.FirstRead(depth, caps is not null), false, 0);
                while (true)
                {
                    reads++;
                    var answers = shards.Select(s => (IReadOnlyList<ScoredItem>)s.Latest(asked, [], [], [], caps: caps, capSurvivors: survivors && caps is not null,
                        slots: slots, deepSlots: deepSlots)).ToArray();
                    var walk = NewestItems.Walk(answers, asked, depth, slots, deepSlots, caps, taken: null);
                    if (walk.Next == NextRead.None)
                    {
                        Assert.Equal(expected.Select(e => (e.Item.Id, e.Slot)), walk.Filled.Select(f => (f.Item.ItemId, f.Slot)));
                        break;
                    }
                    if (walk.Next == NextRead.DeeperSlots) deepSlots = true;
                    else asked = TagCaps.Deeper(asked);
                }
                Assert.True(reads < 8, $"{reads} reads");
            }
        }
    }

    [Fact]
    public void The_popular_list_with_a_fresh_boost_is_the_counts_times_each_items_freshness_and_tag_factors()
    {
        var random = new Random(4);
        var popular = Enumerable.Range(0, 500)
            .Select(i => new PopularItem($"i{i}", $"I{i}", random.Next(1, 200), random.Next(2) == 0 ? ["sale"] : [],
                random.Next(4) == 0 ? null : Now.AddHours(-random.NextDouble() * 100)))
            .OrderByDescending(p => p.Count)
            .ToArray();
        var boosts = new PopularBoosts([new TagBoost("sale", 2)], new Freshness(TimeSpan.FromHours(24), 8), Now);
        double Factor(PopularItem p) => (p.Tags!.Count > 0 ? 2 : 1) * (p.AvailableFrom is { } from ? 1 + 7 * Math.Pow(2, -(Now - from).TotalHours / 24) : 1);

        var boosted = SoftmaxRanking.Boosted(popular, boosts, 40);

        Assert.Equal(popular.OrderByDescending(p => Math.Log(p.Count * Factor(p))).Take(40).Select(p => p.ItemId), boosted.Select(p => p.ItemId));
        var ranked = SoftmaxRanking.RankPopular(boosted, 40, null, boosts: boosts);
        var total = boosted.Sum(p => p.Count * Factor(p));
        for (var i = 0; i < ranked.Length; i++)
        {
            Assert.Equal(boosted[i].Count * Factor(boosted[i]) / total, ranked[i].Score, 1e-6);
            Assert.Equal(1.0, (ranked[i].Boost ?? 1) / Factor(boosted[i]), 4);
        }
        Assert.Null(PopularBoosts.Of(new RecommendationRequest(10), Now));
        Assert.NotNull(PopularBoosts.Of(new RecommendationRequest(10, Fresh: boosts.Fresh), Now));
    }
}
