using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Recommender.Abstractions;
using Recommender.Cluster.Tests.Api;
using Recommender.Cluster.Tests.Infrastructure;
using static Recommender.Cluster.Tests.Serving.SmallCatalogueTags;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// pin=ITEM:POSITION on every list: the item stands at its place (counted across pages) whatever its score, the ranked
/// items fill the others, and a list that may not hold the item fills its place from the ranking.
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class PinTests(ServingCluster cluster)
{
    private async Task<List<RecommendedItemReply>> User(string query) =>
        (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?{query}")).Items;

    private static string Pins(params (string Id, int Position)[] pins) => string.Join("&", pins.Select(p => $"pin={Uri.EscapeDataString(p.Id)}:{p.Position}"));

    /// <summary>
    /// <paramref name="pinned"/> is <paramref name="plain"/> (the same list without pins, deep enough to hold every item)
    /// with the pinned items taken out and set at their places, cut to <paramref name="k"/>: each marked pinned or not,
    /// each keeping its similarity, the scores its share of this list (two items' scores stand as they do in the plain list).
    /// </summary>
    private static void AssertPinned(IReadOnlyList<RecommendedItemReply> plain, IReadOnlyList<RecommendedItemReply> pinned, (string Id, int Position)[] pins, int k)
    {
        var expected = plain.Select(i => i.Id).Where(id => !pins.Any(p => p.Id == id)).ToList();
        foreach (var (id, position) in pins.OrderBy(p => p.Position))
            expected.Insert(Math.Min(position - 1, expected.Count), id);
        Assert.Equal(expected.Take(k), pinned.Select(i => i.Id));
        Assert.All(pinned, i => Assert.Equal(pins.Any(p => p.Id == i.Id) ? true : null, i.Pinned));
        var own = plain.ToDictionary(i => i.Id);
        Assert.All(pinned, i => Assert.Equal(own[i.Id].Similarity, i.Similarity));
        Assert.Equal(1.0, pinned.Sum(i => i.Score), 6);
        var (first, last) = (pinned[0], pinned[^1]);
        Assert.Equal(own[first.Id].Score / own[last.Id].Score, first.Score / last.Score, 4);
    }

    [Fact]
    public async Task A_pinned_item_stands_at_its_place_and_the_ranked_items_fill_the_others_across_pages()
    {
        var plain = await User("k=1000");
        (string, int)[] pins = [(plain[40].Id, 2), (plain[60].Id, 15)];
        var whole = await User($"k=1000&{Pins(pins)}");
        AssertPinned(plain, whole, pins, 1000);
        Assert.Equal(plain.Count, whole.Count);
        var top = await User($"k=10&{Pins(pins)}");
        AssertPinned(plain, top, pins, 10);
        // Pages join up: the item pinned to place 15 is on the second page only, the ranked items around it move down.
        var second = await User($"k=10&offset=10&{Pins(pins)}");
        Assert.Equal(whole.Skip(10).Take(10).Select(i => i.Id), second.Select(i => i.Id));
        Assert.Equal(plain[60].Id, second[4].Id);
        Assert.True(second[4].Pinned);
        Assert.DoesNotContain(plain[60].Id, top.Select(i => i.Id));
        // An item pinned where it ranks already stays there; the first page's top item pinned lower gives its place up.
        AssertPinned(plain, await User($"k=10&{Pins((plain[0].Id, 1))}"), [(plain[0].Id, 1)], 10);
        AssertPinned(plain, await User($"k=10&{Pins((plain[0].Id, 5))}"), [(plain[0].Id, 5)], 10);
        // The explanations and boosts of a list take a pinned item too.
        var explained = await cluster.GetJsonAsync<JsonObject>($"/users/5/recommendations?k=3&explain=true&{Pins((plain[40].Id, 2))}");
        var unpinned = await cluster.GetJsonAsync<JsonObject>("/users/5/recommendations?k=1000&explain=true");
        var reasons = unpinned["items"]!.AsArray().Single(i => (string?)i!["id"] == plain[40].Id)!["because"]!.AsArray();
        Assert.NotEmpty(reasons);
        Assert.True(JsonNode.DeepEquals(reasons, explained["items"]![1]!["because"]), explained.ToJsonString());
        var boosted = await User($"k=1000&boost=drama:3&{Pins((plain[40].Id, 2))}");
        Assert.Equal(Even(plain[40]) ? 3 : null, boosted[1].Boost);
    }

    [Fact]
    public async Task A_list_that_may_not_hold_the_pinned_item_fills_its_place_from_the_ranking()
    {
        var plain = await User("k=1000");
        var seen = (await cluster.GetJsonAsync<HistoryReply>("/users/5/history")).Events[0].ItemId;
        var ids = plain.Select(i => i.Id).ToArray();
        var passedOver = await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&{Pins(("no-such-item", 2), (seen, 1), (ids[50], 4))}");
        Assert.Equal([.. ids.Take(3), ids[50], .. ids.Take(9).Skip(3)], passedOver.Items.Select(i => i.Id));
        // The answer names the pins of its page it could not place, top place first, and why; a later page's are its own.
        Assert.Equal([new(seen, 1, "seen"), new("no-such-item", 2, "unknown")], passedOver.UnplacedPins!);
        Assert.Null((await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&{Pins((seen, 15))}")).UnplacedPins);
        Assert.Equal([new(seen, 15, "seen")], (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&offset=10&{Pins((seen, 15))}")).UnplacedPins!);
        Assert.Null((await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&offset=10&{Pins((seen, 3))}")).UnplacedPins);
        Assert.Null((await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&includeSeen=true&{Pins((seen, 3))}")).UnplacedPins);
        // A seen item is listed when the request includes seen items; an item excluded is not, pinned or not.
        var withSeen = await User($"k=10&includeSeen=true&{Pins((seen, 3))}");
        Assert.Equal(seen, withSeen[2].Id);
        Assert.True(withSeen[2].Pinned);
        var excluded = await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&exclude={ids[0]}&{Pins((ids[0], 1))}");
        Assert.Equal(ids.Skip(1).Take(10), excluded.Items.Select(i => i.Id));
        Assert.Equal([new(ids[0], 1, "excluded")], excluded.UnplacedPins!);
        // A seen item the request excludes as well is named as excluded.
        Assert.Equal([new(seen, 2, "excluded")], (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&exclude={seen}&{Pins((seen, 2))}")).UnplacedPins!);
        // Tag filters hold for a pinned item: an action movie is not set in a list of dramas.
        var odd = plain.First(Odd).Id;
        var dramas = await User("k=1000&tag=drama");
        var notDrama = await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=1000&tag=drama&{Pins((odd, 1))}");
        Assert.Equal(dramas.Select(i => i.Id), notDrama.Items.Select(i => i.Id));
        Assert.Equal([new(odd, 1, "outsideTags")], notDrama.UnplacedPins!);
        var action = await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=1000&excludeTag=action&{Pins((odd, 1))}");
        Assert.Equal((await User("k=1000&excludeTag=action")).Select(i => i.Id), action.Items.Select(i => i.Id));
        Assert.Equal([new(odd, 1, "outsideTags")], action.UnplacedPins!);
        // A list shorter than the place ends with the pinned item.
        var even = dramas[^1].Id;
        var ending = await User($"k=1000&tag=drama&{Pins((even, 1000))}");
        Assert.Equal([.. dramas.Select(i => i.Id).Where(id => id != even), even], ending.Select(i => i.Id));
        Assert.True(ending[^1].Pinned);
    }

    [Fact]
    public async Task The_front_end_counts_the_pins_of_each_page_placed_or_unplaced_with_the_reason_by_list_and_scenario()
    {
        using var pins = new FrontEndMeasurements(cluster.FrontEndServices, "recommender.pins");
        var plain = await User("k=100");
        var seen = (await cluster.GetJsonAsync<HistoryReply>("/users/5/history")).Events[0].ItemId;
        // A pin beyond the page is not counted; a list without pins counts nothing.
        await User($"k=10&{Pins((plain[40].Id, 2), (seen, 3), ("no-such-item", 4), ("also-unknown", 5), (plain[50].Id, 30))}");
        await User("k=10");
        Assert.Equal(1, pins.Sum(("outcome", "placed"), ("list", "user"), ("scenario", "")));
        Assert.Equal(1, pins.Sum(("outcome", "unplaced"), ("reason", "seen"), ("list", "user")));
        Assert.Equal(2, pins.Sum(("outcome", "unplaced"), ("reason", "unknown"), ("list", "user")));
        Assert.Equal(4, pins.Sum());

        await cluster.GetJsonAsync<SimilarReply>($"/items/2/similar?k=5&{Pins(("2", 1))}");
        Assert.Equal(1, pins.Sum(("outcome", "unplaced"), ("reason", "itself"), ("list", "similar")));
        await cluster.GetJsonAsync<PopularReply>($"/popular?k=5&{Pins(("no-such-item", 1))}");
        Assert.Equal(1, pins.Sum(("reason", "unknown"), ("list", "popular")));
        var items = (await cluster.GetJsonAsync<HistoryReply>("/users/5/history")).Events.Select(e => e.ItemId).Distinct().Take(3).ToArray();
        await ServingChecks.SessionList(cluster.Http, items, $"k=5&{Pins((items[0], 1))}");
        Assert.Equal(1, pins.Sum(("reason", "seen"), ("list", "session")));

        // A scenario's pins are counted under its name.
        var name = $"test-{Guid.NewGuid():N}";
        using (var put = await cluster.Http.PutAsJsonAsync($"/scenarios/{name}", new { pin = new[] { $"{seen}:1", $"{plain[60].Id}:2" } }))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        await User($"k=10&scenario={name}");
        Assert.Equal(1, pins.Sum(("outcome", "unplaced"), ("reason", "seen"), ("scenario", name)));
        Assert.Equal(1, pins.Sum(("outcome", "placed"), ("scenario", name)));
        Assert.Equal(9, pins.Sum());
    }

    [Fact]
    public async Task A_diverse_list_keeps_its_other_places_apart_from_its_pinned_items()
    {
        var models = await cluster.GetJsonAsync<ModelsReply>("/models");
        var dimension = models.Models.Single(m => m.Version == models.Active).Dimension;
        float[] Vector(params (int Axis, float Value)[] values)
        {
            var vector = new float[dimension];
            foreach (var (axis, value) in values) vector[axis] = value;
            return vector;
        }
        // An anchor and three items of a tag of their own: the pinned one, a near-copy of it (the most like the anchor of
        // the others) and one less like the anchor and unlike the pinned one.
        var tag = $"likeness-{Guid.NewGuid():N}";
        var (anchor, pinned, copy, unlike) = ($"{tag}-anchor", $"{tag}-pinned", $"{tag}-copy", $"{tag}-unlike");
        (string Id, float[] Embedding, string[] Tags)[] items =
        [
            (anchor, Vector((0, 1), (1, 1)), []), (pinned, Vector((1, 1)), [tag]), (copy, Vector((1, 1), (2, 0.02f)), [tag]), (unlike, Vector((0, 1), (1, -0.3f)), [tag]),
        ];
        try
        {
            using (var written = await cluster.Http.PostAsJsonAsync("/items", items.Select(i => new { id = i.Id, title = i.Id, tags = i.Tags, embedding = i.Embedding })))
                Assert.True(written.StatusCode == HttpStatusCode.OK, await written.Content.ReadAsStringAsync());
            async Task<List<string>> Similar(string query) =>
                [.. (await cluster.GetJsonAsync<SimilarReply>($"/items/{anchor}/similar?tag={tag}&diversity=0.5&{query}")).Items.Select(i => i.Id)];
            // Without the pinned item the near-copy, the most relevant, comes first; with it on the page, wherever, the item unlike it does.
            Assert.Equal([copy, unlike], await Similar($"k=3&exclude={pinned}"));
            Assert.Equal([pinned, unlike, copy], await Similar($"k=3&pin={pinned}:1"));
            Assert.Equal([unlike, copy, pinned], await Similar($"k=3&pin={pinned}:3"));
            // A pin past the list's end is not on it, and the list is picked as without it.
            Assert.Equal([copy, unlike], await Similar($"k=2&pin={pinned}:3"));
        }
        finally
        {
            await ServingChecks.HideAsync(cluster, [.. items.Select(i => (i.Id, i.Tags))]);
        }
    }

    /// <summary>A list of ten with the pinned drama at its place and, under cap=drama:2, one ranked drama beside it.</summary>
    private static void AssertOneRankedDrama(IReadOnlyList<RecommendedItemReply> list, string pinned, int position)
    {
        Assert.Equal(10, list.Count);
        Assert.Equal(pinned, list[position - 1].Id);
        Assert.True(list[position - 1].Pinned);
        Assert.Equal(1, list.Count(i => i.Pinned != true && Even(i)));
    }

    /// <summary><paramref name="ranked"/> with <paramref name="id"/> set at <paramref name="position"/> when the list of <paramref name="k"/> reaches it.</summary>
    private static List<string> WithPin(IEnumerable<string> ranked, string id, int position, int k)
    {
        var list = ranked.ToList();
        if (position <= k) list.Insert(Math.Min(position - 1, list.Count), id);
        return [.. list.Take(k)];
    }

    [Fact]
    public async Task A_pinned_item_counts_against_the_caps_of_its_tags_wherever_its_place()
    {
        async Task<List<string>> Ids(string query) => [.. (await User(query)).Select(i => i.Id)];
        var plain = await User("k=1000");
        var (drama, second) = (plain.Where(Even).ElementAt(5).Id, plain.Where(Even).ElementAt(8).Id);
        // A pinned drama under cap=drama:2 leaves room for one ranked drama, on every page, whether the pin is on it or not
        // (dramas boosted, so that the cap is what holds them back).
        const string raised = "boost=drama:100";
        Assert.True((await Ids($"k=10&{raised}")).Take(10).Count(id => plain.Any(i => i.Id == id && Even(i))) > 2, "too few dramas to cap");
        foreach (var (position, k) in new[] { (3, 10), (15, 20), (15, 10) })
            Assert.Equal(WithPin(await Ids($"k={k}&{raised}&cap=drama:1&exclude={drama}"), drama, position, k), await Ids($"k={k}&{raised}&cap=drama:2&pin={drama}:{position}"));
        var secondPage = await Ids($"k=10&offset=10&{raised}&cap=drama:2&pin={drama}:15");
        Assert.Equal((await Ids($"k=20&{raised}&cap=drama:2&pin={drama}:15")).Skip(10), secondPage);
        // Its tags fill places of caps of each tag; a diverse pick makes the same room.
        Assert.Equal(WithPin(await Ids($"k=10&{raised}&capEach=*:2&cap=drama:1&cap=romance:1&exclude={drama}"), drama, 2, 10),
            await Ids($"k=10&{raised}&capEach=*:2&pin={drama}:2"));
        // (A diverse pick also keeps apart from the pinned item, so its other places are not those of a list without it.)
        AssertOneRankedDrama(await User($"k=10&{raised}&diversity=0.2&cap=drama:2&pin={drama}:3"), drama, 3);
        // Pins beyond a cap all stand, and no ranked item of the tag is listed.
        Assert.Equal([drama, second, .. await Ids("k=8&excludeTag=drama")], await Ids($"k=10&cap=drama:1&pin={drama}:1&pin={second}:2"));

        await ServingChecks.WhileTheLiveListSettles(async () =>
        {
            async Task<List<string>> Popular(string query) => [.. (await cluster.GetJsonAsync<PopularReply>($"/popular?{query}")).Items.Select(i => i.Id)];
            var popularDrama = (await cluster.GetJsonAsync<PopularReply>("/popular?k=1000")).Items.Where(Even).ElementAt(3).Id;
            var expected = WithPin(await Popular($"k=10&{raised}&cap=drama:1&exclude={popularDrama}"), popularDrama, 4, 10);
            var pinned = await Popular($"k=10&{raised}&cap=drama:2&pin={popularDrama}:4");
            var diverse = (await cluster.GetJsonAsync<PopularReply>($"/popular?k=10&{raised}&diversity=0.2&cap=drama:2&pin={popularDrama}:4")).Items;
            Assert.Equal(popularDrama, (await cluster.GetJsonAsync<PopularReply>("/popular?k=1000")).Items.Where(Even).ElementAt(3).Id);
            Assert.Equal(expected, pinned);
            AssertOneRankedDrama(diverse, popularDrama, 4);
        });
    }

    [Fact]
    public async Task Sessions_similar_items_and_the_popular_list_take_pins_too()
    {
        var items = (await cluster.GetJsonAsync<HistoryReply>("/users/5/history")).Events.Select(e => e.ItemId).Distinct().Take(6).ToArray();
        Task<List<RecommendedItemReply>> Session(string query) => ServingChecks.SessionList(cluster.Http, items, query);
        var session = await Session("k=1000");
        (string, int)[] sessionPins = [(session[30].Id, 1), (session[50].Id, 3)];
        AssertPinned(session, await Session($"k=10&{Pins(sessionPins)}"), sessionPins, 10);
        // A session's own items are seen: pinned, they leave their places to the ranking.
        Assert.Equal(session.Take(10).Select(i => i.Id), (await Session($"k=10&{Pins((items[0], 1))}")).Select(i => i.Id));
        using (var response = await cluster.Http.PostAsJsonAsync($"/recommendations?k=10&{Pins((items[0], 1))}", new { items }))
            Assert.Equal([new(items[0], 1, "seen")], (await response.Content.ReadFromJsonAsync<SessionRecommendationsReply>())!.UnplacedPins!);

        var similar = (await cluster.GetJsonAsync<SimilarReply>("/items/2/similar?k=1000")).Items;
        (string, int)[] similarPins = [(similar[^1].Id, 2)];
        AssertPinned(similar, (await cluster.GetJsonAsync<SimilarReply>($"/items/2/similar?k=10&{Pins(similarPins)}")).Items, similarPins, 10);
        // An item is never listed as like itself.
        var itself = await cluster.GetJsonAsync<SimilarReply>($"/items/2/similar?k=5&{Pins(("2", 1))}");
        Assert.Equal(similar.Take(5).Select(i => i.Id), itself.Items.Select(i => i.Id));
        Assert.Equal([new("2", 1, "itself")], itself.UnplacedPins!);
        Assert.Equal([new(similar[0].Id, 3, "excluded")],
            (await cluster.GetJsonAsync<SimilarReply>($"/items/2/similar?k=5&exclude={similar[0].Id}&{Pins((similar[0].Id, 3))}")).UnplacedPins!);

        await ServingChecks.WhileTheLiveListSettles(async () =>
        {
            var popular = (await cluster.GetJsonAsync<PopularReply>("/popular?k=1000")).Items;
            // The least popular item set at the top: its score is its count's share of the list, as any item's.
            (string, int)[] popularPins = [(popular[^1].Id, 1), (popular[2].Id, 10)];
            var pinned = (await cluster.GetJsonAsync<PopularReply>($"/popular?k=20&{Pins(popularPins)}")).Items;
            var cold = (await cluster.GetJsonAsync<RecommendationsReply>($"/users/cold-{Guid.NewGuid():N}/recommendations?k=20&{Pins(popularPins)}")).Items;
            var after = (await cluster.GetJsonAsync<PopularReply>("/popular?k=1000")).Items;
            Assert.Equal(popular, after);
            AssertPinned(after, pinned, popularPins, 20);
            Assert.Equal(pinned, cold);
            var unknown = await cluster.GetJsonAsync<PopularReply>($"/popular?k=20&{Pins(("no-such-item", 3), popularPins[0])}");
            Assert.Equal([new("no-such-item", 3, "unknown")], unknown.UnplacedPins!);
            Assert.Equal(popular[^1].Id, unknown.Items[0].Id);
            Assert.Equal([new("no-such-item", 3, "unknown")], (await cluster.GetJsonAsync<PopularReply>($"/popular?k=20&{Pins(("no-such-item", 3))}")).UnplacedPins!);
            // The popular list's reasons are the shards' as a model list's are.
            var (drama, notDrama) = (popular.First(Even).Id, popular.First(Odd).Id);
            Assert.Equal([new(drama, 2, "excluded"), new(notDrama, 4, "outsideTags")],
                (await cluster.GetJsonAsync<PopularReply>($"/popular?k=20&tag=drama&exclude={drama}&{Pins((drama, 2), (notDrama, 4))}")).UnplacedPins!);
        });
    }

    [Theory]
    [InlineData("/users/5/recommendations")]
    [InlineData("/items/2/similar")]
    [InlineData("/popular")]
    public async Task A_bad_pin_is_a_problem_naming_the_parameter(string path)
    {
        string[] bad =
        [
            "pin=7", "pin=7:0", "pin=7:1001", "pin=7:x", "pin=7:-1", "pin=:2", "pin=%20:2", "pin=7:1&pin=7:2", "pin=7:1&pin=8:1",
            string.Join("&", Enumerable.Range(0, Limits.MaxPins + 1).Select(i => $"pin={i + 1}:{i + 1}")),
        ];
        // An id may hold a colon: the position follows the last one.
        await ServingChecks.EachIsAProblemNaming(cluster.Http, path, "pin", bad, "pin=7:0", "pin '7:0' has position '0'", "pin=a:b:2");
    }
}
