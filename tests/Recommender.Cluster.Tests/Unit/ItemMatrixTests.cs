using Recommender.Abstractions;
using Recommender.Grains.Items;

namespace Recommender.Cluster.Tests.Unit;

public sealed class ItemMatrixTests
{
    [Fact]
    public void Cosine_rows_are_normalised_and_scans_return_ids_and_titles()
    {
        var matrix = new ItemMatrix(2, normalise: true);
        matrix.Upsert("a", "Alpha", [3f, 4f]);
        matrix.Upsert("b", "Beta", [0f, 10f]);
        matrix.Upsert("c", "Gamma", [-1f, 0f]);
        Assert.Equal(1f, matrix.Vector(0)[0] * matrix.Vector(0)[0] + matrix.Vector(0)[1] * matrix.Vector(0)[1], 1e-6f);

        var top = matrix.TopK([0f, 1f], 2, []);
        Assert.Equal(["b", "a"], top.Select(t => t.ItemId));
        Assert.Equal(["Beta", "Alpha"], top.Select(t => t.Title));
        Assert.Equal(1f, top[0].Similarity, 1e-6f);
        Assert.Equal(0.8f, top[1].Similarity, 1e-6f);
    }

    [Fact]
    public void Exclusions_skip_items_and_unknown_exclusions_are_ignored()
    {
        var matrix = new ItemMatrix(2, normalise: false);
        matrix.Upsert("a", "A", [1f, 0f]);
        matrix.Upsert("b", "B", [0.5f, 0f]);
        Assert.Equal(["b"], matrix.TopK([1f, 0f], 5, ["a", "not-here"]).Select(t => t.ItemId));
    }

    [Fact]
    public void Scans_within_small_and_large_tags_alone_and_together_return_what_a_scan_of_every_row_filtered_by_hand_does()
    {
        // 400 rows: "rare" on 20 and "scarce" on 25 (walked, alone and together), "common" on 200 (tested as rows enter
        // the heap), the filters mixed with exclusions, hidden rows and excluded tags.
        var random = new Random(7);
        var matrix = new ItemMatrix(8, normalise: false);
        var tags = new Dictionary<string, string[]>();
        for (var i = 0; i < 400; i++)
        {
            string[] own = [.. new[] { i % 20 == 3 ? "rare" : null, i % 16 == 5 ? "scarce" : null, i % 2 == 0 ? "common" : null, i % 7 == 0 ? "barred" : null }.OfType<string>()];
            tags[$"i{i}"] = own;
            matrix.Upsert($"i{i}", $"Item {i}", [.. Enumerable.Range(0, 8).Select(_ => (float)random.NextDouble() - 0.5f)], own);
        }
        matrix.SetHidden(new HashSet<string> { "i23", "i101" });
        float[] query = [.. Enumerable.Range(0, 8).Select(_ => (float)random.NextDouble() - 0.5f)];
        string[] exclude = ["i43", "i5", "i2"];
        var everyRow = matrix.TopK(query, 400, exclude);

        foreach (var (any, none) in new (string[], string[])[] { (["rare"], []), (["rare", "scarce"], []), (["RARE", "scarce"], ["barred"]),
            (["common"], []), (["common", "rare"], ["barred"]), (["scarce", "nowhere"], []) })
        {
            var expected = everyRow.Where(r => tags[r.ItemId].Intersect(any, StringComparer.OrdinalIgnoreCase).Any()
                && !tags[r.ItemId].Intersect(none, StringComparer.OrdinalIgnoreCase).Any()).Take(10).Select(r => r.ItemId).ToArray();
            Assert.Equal(10, expected.Length);
            Assert.Equal(expected, matrix.TopK(query, 10, exclude, any, none).Select(r => r.ItemId));
        }
    }

    [Fact]
    public void Hidden_items_keep_their_rows_but_no_scan_returns_them_until_shown_again()
    {
        var matrix = new ItemMatrix(2, normalise: false);
        matrix.Upsert("a", "A", [3f, 0f]);
        matrix.Upsert("b", "B", [2f, 0f]);
        matrix.Upsert("c", "C", [1f, 0f]);
        matrix.SetHidden(new HashSet<string> { "a", "not-here", "d" });
        // k rows still come back when that many are visible.
        Assert.Equal(["b", "c"], matrix.TopK([1f, 0f], 2, []).Select(t => t.ItemId));
        Assert.True(matrix.IsHidden("a"));
        // A hidden id that arrives later is hidden from its first scan.
        matrix.Upsert("d", "D", [9f, 0f]);
        Assert.Equal(["b", "c"], matrix.TopK([1f, 0f], 5, []).Select(t => t.ItemId));
        Assert.Equal(["c"], matrix.TopK([1f, 0f], 5, ["b"]).Select(t => t.ItemId));
        matrix.SetHidden(new HashSet<string>());
        Assert.Equal(["d", "a", "b", "c"], matrix.TopK([1f, 0f], 5, []).Select(t => t.ItemId));
        Assert.False(matrix.IsHidden("a"));
    }

    [Fact]
    public void A_row_of_an_item_not_available_yet_is_held_back_until_then_whatever_the_hidden_set_says()
    {
        var matrix = new ItemMatrix(2, normalise: false);
        matrix.Upsert("a", "A", [3f, 0f]);
        matrix.Upsert("b", "B", [2f, 0f], availableFrom: DateTimeOffset.UtcNow.AddHours(1));
        matrix.Upsert("c", "C", [1f, 0f], availableFrom: DateTimeOffset.UtcNow.AddHours(-1));
        matrix.SetHidden(new HashSet<string>());
        Assert.Equal(["a", "c"], matrix.TopK([1f, 0f], 5, []).Select(t => t.ItemId));
        Assert.True(matrix.IsHeld("b"));
        Assert.False(matrix.IsHeld("c"));
        // Its time comes in the past on a later write, or the write gives none: the row is listed.
        matrix.Upsert("b", "B", [], availableFrom: DateTimeOffset.UtcNow.AddMilliseconds(30));
        Assert.Equal(["a", "c"], matrix.TopK([1f, 0f], 5, []).Select(t => t.ItemId));
        Thread.Sleep(60);
        Assert.Equal(["a", "b", "c"], matrix.TopK([1f, 0f], 5, []).Select(t => t.ItemId));
        matrix.Upsert("a", "A", [], availableFrom: DateTimeOffset.UtcNow.AddHours(1));
        Assert.Equal(["b", "c"], matrix.TopK([1f, 0f], 5, []).Select(t => t.ItemId));
        matrix.Upsert("a", "A", []);
        Assert.Equal(["a", "b", "c"], matrix.TopK([1f, 0f], 5, []).Select(t => t.ItemId));
    }

    [Fact]
    public void A_tag_is_listed_while_a_row_a_scan_may_return_carries_it()
    {
        var matrix = new ItemMatrix(2, normalise: false);
        matrix.AddUnlisted("model-only", [1f, 0f]);
        matrix.Upsert("later", "Later", [1f, 0f], ["Sale"], availableFrom: DateTimeOffset.UtcNow.AddHours(1));
        matrix.Upsert("kept", "Kept", [1f, 0f], ["sale", "new"]);
        matrix.SetHidden(new HashSet<string> { "kept" });
        // Hidden, held back, or a tag nothing carries: none listed.
        Assert.False(matrix.ListsTag("sale"));
        Assert.False(matrix.ListsTag("none"));
        matrix.SetHidden(new HashSet<string>());
        Assert.True(matrix.ListsTag("SALE"));
        Assert.True(matrix.ListsTag("new"));
        matrix.SetHidden(new HashSet<string> { "kept" });
        matrix.Upsert("later", "Later", [], ["sale"]);
        Assert.True(matrix.ListsTag("sale"));
        Assert.False(matrix.ListsTag("new"));
    }

    [Fact]
    public void An_unlisted_row_of_a_deleted_item_leaves_every_scan_and_takes_its_trained_vector_back_until_written_again()
    {
        var matrix = new ItemMatrix(2, normalise: false);
        // A trained row given another vector by an embedding, and an added row: both dated, both tagged.
        matrix.AddUnlisted("trained", [1f, 0f]);
        matrix.Upsert("trained", "Trained", [0f, 1f], ["news"], availableFrom: DateTimeOffset.UtcNow.AddHours(-1));
        matrix.Upsert("added", "Added", [0.5f, 0.5f], ["news"], availableFrom: DateTimeOffset.UtcNow.AddHours(-2));
        Assert.Equal(["trained", "added"], matrix.Latest(5, [], [], []).Select(r => r.ItemId));

        Assert.True(matrix.Unlist("trained", [1f, 0f]));
        Assert.True(matrix.Unlist("added"));
        Assert.False(matrix.Unlist("added"));
        Assert.False(matrix.Unlist("never-here"));
        Assert.Empty(matrix.TopK([1f, 1f], 5, []));
        Assert.Empty(matrix.TopK([1f, 1f], 5, [], ["news"], []));
        Assert.Empty(matrix.Latest(5, [], [], []));
        Assert.False(matrix.ListsTag("news"));
        Assert.True(matrix.IsUnlisted("trained"));
        Assert.Equal(2, matrix.UnlistedCount);
        matrix.TryGetRow("trained", out var row);
        Assert.Equal([1f, 0f], matrix.Vector(row).ToArray());
        Assert.Equal("trained", matrix.Title(row));

        // Written again without a vector, a trained item ranks by its trained vector, with only what the write gives.
        matrix.Upsert("trained", "Written again", []);
        var top = Assert.Single(matrix.TopK([1f, 0f], 5, []));
        Assert.Equal(("trained", "Written again", 1f), (top.ItemId, top.Title, top.Similarity));
        Assert.Empty(matrix.TopK([1f, 0f], 5, [], ["news"], []));
        Assert.Empty(matrix.Latest(5, [], [], []));
    }

    [Fact]
    public void Upserts_keep_rows_update_titles_and_vectors_and_grow_the_storage()
    {
        var matrix = new ItemMatrix(3, normalise: false);
        for (var i = 0; i < 100; i++) Assert.Equal(i, matrix.Upsert($"i{i}", $"T{i}", [i, 1f, 0f]));
        Assert.Equal(5, matrix.Upsert("i5", "Renamed", []));
        Assert.Equal(5f, matrix.Vector(5)[0]);
        Assert.Equal(7, matrix.Upsert("i7", "T7", [0f, 0f, 9f]));
        Assert.Equal("i7", matrix.TopK([0f, 0f, 1f], 1, [])[0].ItemId);
        Assert.Equal("Renamed", matrix.TopK([1f, 0f, 0f], 100, []).Single(t => t.ItemId == "i5").Title);
        Assert.Throws<ArgumentException>(() => matrix.Upsert("new", "New", []));
        Assert.Throws<ArgumentException>(() => matrix.Upsert("new", "New", [1f]));
    }

    [Theory]
    [InlineData("v1/0-of-4", "v1", 0, 4)]
    [InlineData("recency-mean-x-d64/3-of-4", "recency-mean-x-d64", 3, 4)]
    public void Shard_keys_round_trip(string text, string version, int index, int count)
    {
        var key = ShardKey.Parse(text);
        Assert.Equal(new ShardKey(version, index, count), key);
        Assert.Equal(text, key.ToString());
    }

    [Theory]
    [InlineData("v1/4-of-4")]
    [InlineData("v1/0-of-0")]
    [InlineData("v1")]
    [InlineData("/0-of-1")]
    public void Bad_shard_keys_are_rejected(string text) => Assert.Throws<FormatException>(() => ShardKey.Parse(text));

    [Fact]
    public void Model_items_are_dealt_round_robin()
    {
        Assert.Equal((0, 0), (ShardKey.ShardOf(1, 4), ShardKey.RowOf(1, 4)));
        Assert.Equal((3, 0), (ShardKey.ShardOf(4, 4), ShardKey.RowOf(4, 4)));
        Assert.Equal((0, 1), (ShardKey.ShardOf(5, 4), ShardKey.RowOf(5, 4)));
    }

    [Fact]
    public void Pinned_rows_leave_the_ranking_and_those_a_list_may_hold_follow_it_scored_and_marked()
    {
        var matrix = new ItemMatrix(2, normalise: false);
        matrix.Upsert("a", "A", [3f, 0f], ["Drama"]);
        matrix.Upsert("b", "B", [2f, 1f], ["action", "sale"]);
        matrix.Upsert("c", "C", [1f, 1f], ["Drama"]);
        matrix.Upsert("hidden", "H", [1f, 0f]);
        matrix.Upsert("later", "L", [1f, 0f], availableFrom: DateTimeOffset.UtcNow.AddHours(1));
        matrix.AddUnlisted("unlisted", [1f, 0f]);
        matrix.SetHidden(new HashSet<string> { "hidden" });
        string[] all = ["b", "a", "hidden", "later", "unlisted", "not-here"];

        var answer = matrix.TopK([1f, 2f], 10, [], [], [], pinned: all);
        Assert.Equal(["c", "b", "a", "hidden", "later", "unlisted"], answer.Select(i => i.ItemId));
        Assert.Equal([false, true, true, true, true, true], answer.Select(i => i.Pinned));
        // Those the list may not hold come last, with the reason and nothing scored; an id the shard lacks is not sent.
        Assert.Equal([null, null, null, PinRefusal.Unavailable, PinRefusal.Unavailable, PinRefusal.Unknown], answer.Select(i => i.Refusal));
        Assert.Equal([3f, 4f, 3f, 0f, 0f, 0f], answer.Select(i => i.Similarity));
        Assert.Equal(["B", "A"], answer.Skip(1).Take(2).Select(i => i.Title));
        Assert.Equal(["action", "sale"], answer[1].Tags!);
        Assert.Null(answer[0].Tags);
        // Exclusions and tag filters (ignoring case) hold for pinned rows as for ranked ones, each named as the reason.
        Dictionary<string, PinRefusal> Refused(ScoredItem[] scan) => scan.Where(i => i.Refusal is not null).ToDictionary(i => i.ItemId, i => i.Refusal!.Value);
        var excluded = matrix.TopK([1f, 2f], 10, ["a", "hidden"], [], [], pinned: all);
        Assert.Equal(["c", "b"], excluded.Where(i => i.Refusal is null).Select(i => i.ItemId));
        Assert.Equal(PinRefusal.Excluded, Refused(excluded)["a"]);
        Assert.Equal(PinRefusal.Unavailable, Refused(excluded)["hidden"]);
        var dramas = matrix.TopK([1f, 2f], 10, [], ["drama"], [], pinned: all);
        Assert.Equal(["c", "a"], dramas.Where(i => i.Refusal is null).Select(i => i.ItemId));
        Assert.Equal(PinRefusal.OutsideTags, Refused(dramas)["b"]);
        var noSale = matrix.TopK([1f, 2f], 10, [], [], ["SALE"], pinned: all);
        Assert.Equal(["c", "a"], noSale.Where(i => i.Refusal is null).Select(i => i.ItemId));
        Assert.Equal(PinRefusal.OutsideTags, Refused(noSale)["b"]);
        var untagged = matrix.TopK([1f, 2f], 10, [], ["no-such-tag"], [], pinned: all);
        Assert.Equal(["b", "a", "hidden", "later", "unlisted"], untagged.Select(i => i.ItemId));
        Assert.Equal([PinRefusal.OutsideTags, PinRefusal.OutsideTags, PinRefusal.Unavailable, PinRefusal.Unavailable, PinRefusal.Unknown], untagged.Select(i => i.Refusal!.Value));
        Assert.Empty(matrix.TopK([1f, 2f], 10, [], ["no-such-tag"], []));
        // Boosts and caps apply to them as to ranked rows; a scan of no rows sends the pinned ones alone.
        var marked = matrix.TopK([1f, 2f], 10, [], [], [], boosts: [("SALE", 0.5f)], caps: [new TagCap("drama", 1)], pinned: ["a", "b"]);
        Assert.Equal(0.5f, marked.Single(i => i.ItemId == "b").Boost);
        Assert.Equal(["c", "a", "b"], marked.Select(i => i.ItemId));
        Assert.Equal([1, 1, 0], marked.Select(i => i.CappedTags));
        Assert.Equal(["b", "a"], matrix.TopK([0f, 0f], 0, [], [], [], pinned: all).Where(i => i.Refusal is null).Select(i => i.ItemId));
        // A scan for a diverse list sends the pinned rows' vectors too, which its picks keep apart from.
        var withVectors = matrix.TopK([1f, 2f], 10, [], [], [], withVectors: true, pinned: ["b"]);
        Assert.Equal([2f, 1f], VectorBytes.ToFloats(withVectors.Single(i => i.ItemId == "b").Vector!));
        Assert.Null(answer[1].Vector);
    }
}
