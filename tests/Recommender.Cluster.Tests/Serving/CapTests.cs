using System.Net;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// cap=TAG:COUNT on every list: at most COUNT items carrying the tag, the list taken in its order and filled from
/// further down; capEach=PREFIX:COUNT: the same for each tag starting with the prefix, on its own. Each capped list is checked against the same list read whole (k=1000) and walked by hand, with every
/// listed item's tags read from the catalogue (other tests add items of their own to the serving cluster).
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class CapTests(ServingCluster cluster)
{
    private readonly Dictionary<string, string[]> _tags = [];

    /// <summary>The item's tags, as the catalogue gives them.</summary>
    private async Task<string[]> TagsOf(string itemId)
    {
        if (!_tags.TryGetValue(itemId, out var tags))
            _tags[itemId] = tags = [.. (await cluster.GetJsonAsync<ItemReply>($"/items/{Uri.EscapeDataString(itemId)}")).Tags];
        return tags;
    }

    /// <summary>Whether the item carries <paramref name="tag"/> (ignoring case), as the catalogue says.</summary>
    private async Task<bool> Carries(string itemId, string tag) => (await TagsOf(itemId)).Contains(tag, StringComparer.OrdinalIgnoreCase);

    /// <summary>The ids <paramref name="whole"/> (a list read to its end) gives under <paramref name="caps"/>, walked by hand, at most <paramref name="depth"/>.</summary>
    private Task<List<string>> Walk(IEnumerable<RecommendedItemReply> whole, int depth, params (string Tag, int Count)[] caps) =>
        Walk(whole, depth, caps, []);

    /// <summary>
    /// As above, with caps of each tag under a prefix as well (capEach; the prefix "" for every tag): per prefix, a count
    /// per tag starting with it, the tags an item carries each counted once ignoring case.
    /// </summary>
    private async Task<List<string>> Walk(IEnumerable<RecommendedItemReply> whole, int depth, (string Tag, int Count)[] caps, (string Prefix, int Count)[] each)
    {
        var taken = new List<string>();
        var counts = new int[caps.Length];
        var perTag = each.Select(_ => new Dictionary<string, int>()).ToArray();
        foreach (var item in whole)
        {
            if (taken.Count == depth) break;
            var carried = new bool[caps.Length];
            for (var c = 0; c < caps.Length; c++) carried[c] = await Carries(item.Id, caps[c].Tag);
            var tags = (await TagsOf(item.Id)).Select(t => t.ToLowerInvariant()).Distinct().ToArray();
            var under = each.Select(e => tags.Where(t => t.StartsWith(e.Prefix.ToLowerInvariant(), StringComparison.Ordinal)).ToArray()).ToArray();
            if (Enumerable.Range(0, caps.Length).Any(c => carried[c] && counts[c] >= caps[c].Count)) continue;
            if (Enumerable.Range(0, each.Length).Any(e => under[e].Any(t => perTag[e].GetValueOrDefault(t) >= each[e].Count))) continue;
            for (var c = 0; c < caps.Length; c++) if (carried[c]) counts[c]++;
            for (var e = 0; e < each.Length; e++) foreach (var t in under[e]) perTag[e][t] = perTag[e].GetValueOrDefault(t) + 1;
            taken.Add(item.Id);
        }
        return taken;
    }

    private async Task<int> Count(IEnumerable<RecommendedItemReply> list, string tag)
    {
        var count = 0;
        foreach (var item in list) if (await Carries(item.Id, tag)) count++;
        return count;
    }

    private static List<string> Ids(IEnumerable<RecommendedItemReply> list) => [.. list.Select(i => i.Id)];

    private async Task<List<RecommendedItemReply>> User(string query) =>
        (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?{query}")).Items;

    [Fact]
    public async Task A_cap_lets_at_most_its_count_of_tagged_items_into_a_users_list_and_fills_it_from_further_down()
    {
        var all = await User("k=1000");
        Assert.True(await Count(all.Take(20), "Action") > 2, "the plain top 20 holds more than two action movies");
        var capped = await User("k=20&cap=action:2");
        Assert.Equal(await Walk(all, 20, ("Action", 2)), Ids(capped));
        Assert.Equal((20, 2), (capped.Count, await Count(capped, "Action")));
        // The scores are the softmax over the listed items: each its share, by its own similarity.
        Assert.Equal(1.0, capped.Sum(i => i.Score), 6);
        Assert.All(capped, i => Assert.Equal(all.Single(a => a.Id == i.Id).Similarity, i.Similarity));
        // A cap counts from the top of the list: the next page goes on from the first.
        Assert.Equal(Ids(capped.Skip(10)), Ids(await User("k=10&offset=10&cap=action:2")));

        // An item carrying two capped tags counts against each; boosts order the list before the caps take from it.
        Assert.Equal(await Walk(all, 30, ("Action", 3), ("THRILLER", 1)), Ids(await User("k=30&cap=action:3&cap=THRILLER:1")));
        var boosted = await User("k=1000&boost=drama:4");
        Assert.Equal(await Walk(boosted, 25, ("Drama", 5)), Ids(await User("k=25&boost=drama:4&cap=drama:5")));
        // Caps on the tags of every movie leave the list to the other items, found by scanning deeper, and shorter only
        // when the items run out.
        Assert.Equal(await Walk(all, 30, ("Drama", 1), ("Action", 1)), Ids(await User("k=30&cap=drama:1&cap=action:1")));
        Assert.Equal(Ids(all.Take(15)), Ids(await User("k=15&cap=no-such-tag:1")));
    }

    [Fact]
    public async Task A_cap_of_each_tag_holds_every_tag_under_its_prefix_to_its_count_on_its_own()
    {
        // The catalogue's movies are Drama|Romance (even ids) or Action|Thriller (odd ones).
        var all = await User("k=1000");
        var counts = async (IEnumerable<RecommendedItemReply> list) =>
        {
            var tags = new List<string>();
            foreach (var item in list) tags.AddRange((await TagsOf(item.Id)).Select(t => t.ToLowerInvariant()).Distinct());
            return tags.CountBy(t => t).ToDictionary();
        };
        // capEach=*:2 caps each of the four genres at two: two movies of each kind, and no more of them fit (the scan
        // goes to the end of the catalogue to find that). Counted together, two would be all.
        // (Items other tests add carry other tags or none, and fill the rest of the list.)
        string[] genres = ["action", "drama", "romance", "thriller"];
        var everyGenre = await User("k=10&capEach=*:2");
        Assert.Equal(await Walk(all, 10, [], [("", 2)]), Ids(everyGenre));
        var everyCount = await counts(everyGenre);
        Assert.Equal([2, 2, 2, 2], genres.Select(g => everyCount.GetValueOrDefault(g)));
        Assert.All(everyCount.Values, c => Assert.InRange(c, 1, 2));
        Assert.Equal(4, everyGenre.Count(i => _tags[i.Id].Length > 0 && genres.Contains(_tags[i.Id][0], StringComparer.OrdinalIgnoreCase)));
        Assert.Equal(1.0, everyGenre.Sum(i => i.Score), 6);
        Assert.Equal(Ids(everyGenre.Skip(2)), Ids(await User("k=5&offset=2&capEach=*:2")));

        // A prefix covers only the tags that start with it (a: Action, which the user's list starts with), and caps of one tag join in.
        Assert.True((await counts(all.Take(12))).GetValueOrDefault("action") > 3, "the plain top 12 holds more than three action movies");
        var actionHeld = await User("k=12&capEach=A:3");
        Assert.Equal(await Walk(all, 12, [], [("a", 3)]), Ids(actionHeld));
        Assert.Equal((12, 3, 3), (actionHeld.Count, (await counts(actionHeld)).GetValueOrDefault("action"), (await counts(actionHeld)).GetValueOrDefault("thriller")));
        var mixed = await User("k=10&capEach=*:3&cap=romance:1");
        Assert.Equal(await Walk(all, 10, [("Romance", 1)], [("", 3)]), Ids(mixed));
        var mixedCount = await counts(mixed);
        Assert.Equal([3, 1, 1, 3], genres.Select(g => mixedCount.GetValueOrDefault(g)));
        // Diversity picks under the same caps.
        var diverse = await User("k=10&diversity=0.5&capEach=a:2");
        Assert.Equal(10, diverse.Count);
        Assert.Equal(2, (await counts(diverse)).GetValueOrDefault("action"));
    }

    [Fact]
    public async Task A_diverse_list_keeps_its_caps_and_stays_full()
    {
        var diverse = await User("k=20&diversity=0.5&cap=action:3");
        Assert.Equal(20, diverse.Count);
        Assert.Equal(3, await Count(diverse, "Action"));
        var plain = await User("k=20&diversity=0.5");
        Assert.True(await Count(plain, "Action") > 3, "the diverse list holds more than three action movies uncapped");
        // Picked by the same relevance: the first pick is the same item.
        Assert.Equal(plain[0].Id, diverse[0].Id);
    }

    [Fact]
    public async Task Sessions_similar_items_and_the_popular_list_take_the_same_caps()
    {
        var items = (await cluster.GetJsonAsync<HistoryReply>("/users/5/history")).Events.Select(e => e.ItemId).Distinct().Take(6).ToArray();
        Task<List<RecommendedItemReply>> Session(string query) => ServingChecks.SessionList(cluster.Http, items, query);
        Assert.Equal(await Walk(await Session("k=1000"), 15, ("Thriller", 2)), Ids(await Session("k=15&cap=thriller:2")));
        Assert.Equal(await Walk(await Session("k=1000"), 10, [], [("a", 2)]), Ids(await Session("k=10&capEach=a:2")));

        var similar = (await cluster.GetJsonAsync<SimilarReply>("/items/2/similar?k=1000")).Items;
        Assert.Equal(await Walk(similar, 15, ("Thriller", 1)), Ids((await cluster.GetJsonAsync<SimilarReply>("/items/2/similar?k=15&cap=Thriller:1")).Items));
        Assert.Equal(await Walk(similar, 10, [], [("t", 1)]), Ids((await cluster.GetJsonAsync<SimilarReply>("/items/2/similar?k=10&capEach=t:1")).Items));

        // Compared while the live list stands still between the first read and the last.
        await ServingChecks.WhileTheLiveListSettles(async () =>
        {
            var before = (await cluster.GetJsonAsync<PopularReply>("/popular?k=1000")).Items;
            var capped = (await cluster.GetJsonAsync<PopularReply>("/popular?k=20&cap=drama:2")).Items;
            var boostedWhole = (await cluster.GetJsonAsync<PopularReply>("/popular?k=1000&boost=drama:3")).Items;
            var boostedCapped = (await cluster.GetJsonAsync<PopularReply>("/popular?k=20&boost=drama:3&cap=drama:4")).Items;
            var perGenre = (await cluster.GetJsonAsync<PopularReply>("/popular?k=10&capEach=R:2")).Items;
            var perGenreBoosted = (await cluster.GetJsonAsync<PopularReply>("/popular?k=10&boost=drama:3&capEach=*:3")).Items;
            var cold = (await cluster.GetJsonAsync<RecommendationsReply>($"/users/cold-{Guid.NewGuid():N}/recommendations?k=20&cap=DRAMA:2")).Items;
            var after = (await cluster.GetJsonAsync<PopularReply>("/popular?k=1000")).Items;
            Assert.Equal(before, after);
            Assert.Equal(await Walk(after, 20, ("Drama", 2)), Ids(capped));
            Assert.Equal(Ids(capped), Ids(cold));
            Assert.Equal(await Walk(boostedWhole, 20, ("Drama", 4)), Ids(boostedCapped));
            Assert.Equal(await Walk(after, 10, [], [("r", 2)]), Ids(perGenre));
            Assert.Equal(await Walk(boostedWhole, 10, [], [("", 3)]), Ids(perGenreBoosted));
        });
    }

    [Theory]
    [InlineData("/users/5/recommendations")]
    [InlineData("/items/2/similar")]
    [InlineData("/popular")]
    public async Task A_bad_cap_is_a_problem_naming_the_parameter(string path)
    {
        string[] bad =
        [
            "cap=drama", "cap=drama:0", "cap=drama:1001", "cap=drama:1.5", "cap=drama:-1", "cap=drama:%2B2", "cap=:2", "cap=%20:2",
            "cap=drama:2&cap=DRAMA:3", string.Join("&", Enumerable.Range(0, 21).Select(i => $"cap=t{i}:2")),
        ];
        // A tag may hold a colon: the count follows the last one.
        await ServingChecks.EachIsAProblemNaming(cluster.Http, path, "cap", bad, "cap=drama:x", "cap 'drama:x' has count 'x'", "cap=a:b:2");

        string[] badEach =
        [
            "capEach=brand", "capEach=brand:0", "capEach=*:1001", "capEach=:2", "capEach=%20:2", "capEach=*:2&capEach=*:3", "capEach=Br:1&capEach=bR:2",
            string.Join("&", Enumerable.Range(0, 21).Select(i => $"capEach=t{i}:2")),
            // Together with cap= at most 20.
            string.Join("&", Enumerable.Range(0, 21).Select(i => i % 2 == 0 ? $"cap=t{i}:2" : $"capEach=t{i}:2")),
        ];
        foreach (var query in badEach)
        {
            using var response = await cluster.Http.GetAsync($"{path}?{query}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = (await response.Content.ReadFromJsonAsync<ProblemReply>())!;
            Assert.True(problem.Errors!.Keys.SequenceEqual(["capEach"]), $"{query}: {string.Join(", ", problem.Errors.Keys)}");
        }
        // One tag may be capped on its own and by a prefix at once; a prefix may hold a colon.
        using var both = await cluster.Http.GetAsync($"{path}?cap=brand:2&capEach=brand:2&capEach=brand::1");
        Assert.Equal(HttpStatusCode.OK, both.StatusCode);
    }
}
