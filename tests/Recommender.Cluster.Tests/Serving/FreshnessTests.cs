using System.Net;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;
using Recommender.Cluster.Tests.Infrastructure;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// fresh=HALFLIFE:FACTOR on every list: an item weighs 1 + (factor − 1) · 2^(−age / half-life) times as much, its age
/// counted from its availableFrom; an item without one keeps its weight. maxAge=DURATION lists only items that became
/// available within it (an item without a time has no age to be within it).
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class FreshnessTests(ServingCluster cluster)
{
    private sealed record FreshScenarioReply(string Name, string? Fresh = null, string? MaxAge = null);

    private sealed record LatestReply(string ModelVersion, List<LatestItemReply> Items);

    private sealed record LatestItemReply(string Id, string Title, DateTimeOffset AvailableFrom);

    private async Task<List<string>> Latest(string query) => [.. (await cluster.GetJsonAsync<LatestReply>($"/latest?{query}")).Items.Select(i => i.Id)];

    /// <summary>Four items of one new tag with one vector: available a minute, a day and thirty days ago, and one without a time.</summary>
    private async Task<(string Tag, string New, string Day, string Old, string Undated)> WriteDatedItems()
    {
        var models = await cluster.GetJsonAsync<ModelsReply>("/models");
        var dimension = models.Models.Single(m => m.Version == models.Active).Dimension;
        var tag = $"dated-{Guid.NewGuid():N}";
        var embedding = Enumerable.Range(0, dimension).Select(i => i % 3 == 0 ? 0.5f : -0.25f).ToArray();
        var now = DateTimeOffset.UtcNow;
        // Named so that the order of their ids, which a tie falls back to, is the reverse of their freshness.
        var (fresh, day, old, undated) = ($"{tag}-d-new", $"{tag}-c-day", $"{tag}-b-old", $"{tag}-a-undated");
        object Item(string id, DateTimeOffset? from) => from is { } f
            ? new { id, title = id, tags = new[] { tag }, embedding, availableFrom = f }
            : new { id, title = id, tags = new[] { tag }, embedding };
        using var written = await cluster.Http.PostAsJsonAsync("/items", new[]
        {
            Item(fresh, now.AddMinutes(-1)), Item(day, now.AddDays(-1)), Item(old, now.AddDays(-30)), Item(undated, null),
        });
        Assert.True(written.StatusCode == HttpStatusCode.OK, await written.Content.ReadAsStringAsync());
        return (tag, fresh, day, old, undated);
    }

    private static Task Hide(ServingCluster cluster, string tag, params string[] ids) => ServingChecks.HideAsync(cluster, [.. ids.Select(id => (id, new[] { tag }))]);

    [Fact]
    public async Task A_fresh_boost_weighs_items_by_how_recently_they_became_available_and_a_max_age_keeps_only_recent_ones_on_every_list()
    {
        var (tag, fresh, day, old, undated) = await WriteDatedItems();
        try
        {
            // Equal vectors: without the boost the four tie and rank by id, without a factor.
            var plain = (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&tag={tag}")).Items;
            Assert.Equal([undated, old, day, fresh], plain.Select(i => i.Id));
            Assert.All(plain, i => Assert.Null(i.Boost));

            var boosted = (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&tag={tag}&fresh=1d:5")).Items;
            var byId = boosted.ToDictionary(i => i.Id);
            // A minute old: almost the whole factor; a day (one half-life): 1 + 4/2; thirty days: 1 (no factor shown); no time: none.
            Assert.Equal(5, byId[fresh].Boost!.Value, 2);
            Assert.Equal(3, byId[day].Boost!.Value, 2);
            Assert.Null(byId[old].Boost);
            Assert.Null(byId[undated].Boost);
            Assert.Equal([fresh, day, undated, old], boosted.Select(i => i.Id));
            // The same similarity, so the scores stand as the factors do.
            Assert.Equal(byId[fresh].Boost!.Value, byId[fresh].Score / byId[undated].Score, 2);
            Assert.Equal(byId[day].Boost!.Value, byId[day].Score / byId[undated].Score, 2);
            Assert.All(boosted, i => Assert.Equal(plain.Single(p => p.Id == i.Id).Similarity, i.Similarity));

            // A factor below 1 holds new items back; the boost multiplies with a tag's.
            var heldBack = (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&tag={tag}&fresh=1d:0.2")).Items;
            Assert.Equal(fresh, heldBack[^1].Id);
            Assert.Equal(0.2, heldBack[^1].Boost!.Value, 2);
            var both = (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&tag={tag}&fresh=1d:5&boost={tag}:2")).Items;
            Assert.Equal(10, both.Single(i => i.Id == fresh).Boost!.Value, 1);
            Assert.Equal(2, both.Single(i => i.Id == undated).Boost);

            // Similar items, sessions and the popular list (items without events are not in it) take it too.
            var similar = (await cluster.GetJsonAsync<SimilarReply>($"/items/{undated}/similar?k=3&tag={tag}&fresh=1d:5")).Items;
            Assert.Equal([fresh, day], similar.Take(2).Select(i => i.Id));
            Assert.Equal(5, similar[0].Boost!.Value, 2);
            var session = await ServingChecks.SessionList(cluster.Http, ["1", "3"], $"k=10&tag={tag}&fresh=1d:5");
            Assert.Equal([fresh, day], session.Take(2).Select(i => i.Id));
            // The popular list, once three users' events put the four in it with equal counts: their counts times the factors.
            var users = Enumerable.Range(0, 3).Select(i => $"fresh-{Guid.NewGuid():N}").ToArray();
            using (var events = await cluster.Http.PostAsJsonAsync("/events", users.SelectMany(u => new[] { fresh, day, old, undated }
                       .Select(item => new { userId = u, itemId = item, type = "view", timestamp = DateTimeOffset.UtcNow })).ToArray()))
                Assert.True(events.IsSuccessStatusCode, await events.Content.ReadAsStringAsync());
            // Each silo rebuilds its own copy of the live list, so a read is taken once it holds the four at one count.
            List<RecommendedItemReply> popular = [];
            await ServingChecks.Eventually(async () =>
            {
                popular = (await cluster.GetJsonAsync<PopularReply>($"/popular?k=10&tag={tag}&fresh=1d:5")).Items;
                return popular.Count == 4 && popular.Select(i => i.Similarity).Distinct().Count() == 1;
            }, "the four items are in the popular list at one count");
            Assert.Equal([fresh, day], popular.Take(2).Select(i => i.Id));
            Assert.Equal(5, popular[0].Boost!.Value, 2);
            Assert.Equal(3, popular[1].Boost!.Value, 2);
            // A pinned item's share takes its freshness too.
            var pinnedDay = (await cluster.GetJsonAsync<PopularReply>($"/popular?k=3&fresh=1d:5&pin={day}:1")).Items[0];
            Assert.Equal((day, true), (pinnedDay.Id, pinnedDay.Pinned == true));
            Assert.Equal(3, pinnedDay.Boost!.Value, 2);

            // maxAge: only the items of the last two days, on every list; a pinned item outside it says so.
            var recent = await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&tag={tag}&maxAge=2d&pin={old}:1&pin={undated}:2");
            Assert.Equal([day, fresh], recent.Items.Select(i => i.Id));
            Assert.Equal([new(old, 1, "tooOld"), new(undated, 2, "tooOld")], recent.UnplacedPins!);
            Assert.Equal([fresh], (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&tag={tag}&maxAge=90m")).Items.Select(i => i.Id));
            Assert.Equal([day, fresh], (await cluster.GetJsonAsync<SimilarReply>($"/items/{undated}/similar?k=10&tag={tag}&maxAge=2d")).Items.Select(i => i.Id));
            Assert.Equal([day, fresh], (await ServingChecks.SessionList(cluster.Http, ["1", "3"], $"k=10&tag={tag}&maxAge=2d")).Select(i => i.Id));
            // A silo whose copy of the live list is a moment old may lack some of the four; one that has them lists the two recent ones.
            List<RecommendedItemReply> recentPopular = [];
            await ServingChecks.Eventually(async () =>
            {
                recentPopular = (await cluster.GetJsonAsync<PopularReply>($"/popular?k=10&tag={tag}&maxAge=2d")).Items;
                return recentPopular.Count >= 2;
            }, "the recent items are in a silo's popular list");
            Assert.Equal([day, fresh], recentPopular.Select(i => i.Id).Order(StringComparer.Ordinal));
            // The newest items by their times, with the same filters; an undated item has no place in that order.
            List<LatestItemReply> latest;
            using (var subjects = new RecommendationSubjects(cluster.FrontEndServices))
            {
                latest = (await cluster.GetJsonAsync<LatestReply>($"/latest?k=10&tag={tag}")).Items;
                Assert.Equal(["latest"], subjects.Seen);
            }
            Assert.Equal([fresh, day, old], latest.Select(i => i.Id));
            Assert.True(latest[0].AvailableFrom > latest[1].AvailableFrom && latest[1].AvailableFrom > latest[2].AvailableFrom);
            Assert.Equal([fresh, day], await Latest($"k=10&tag={tag}&maxAge=2d"));
            Assert.Equal([day], await Latest($"k=1&offset=1&tag={tag}"));
            Assert.Equal([fresh, old], await Latest($"k=10&tag={tag}&exclude={day}"));
            Assert.Empty(await Latest($"k=10&tag={tag}&excludeTag={tag}"));
            // Caps: no tag fills the list.
            Assert.Equal([fresh], await Latest($"k=10&tag={tag}&cap={tag}:1"));
            Assert.Equal([fresh, day], await Latest($"k=10&tag={tag}&capEach=dated-:2"));
            Assert.Equal([day], await Latest($"k=1&offset=1&tag={tag}&cap={tag}:2"));
            // A slot of the tag finds only a recent item; a pin outside the tag is still outsideTags.
            var slotted = await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=3&maxAge=2d&slot={tag}:1&pin=2:2");
            Assert.Contains(slotted.Items[0].Id, new[] { fresh, day });
            Assert.Equal("tooOld", slotted.UnplacedPins!.Single().Reason);

            // A scenario's freshness applies, and a request's own replaces it.
            var name = $"test-{Guid.NewGuid():N}";
            using (var put = await cluster.Http.PutAsJsonAsync($"/scenarios/{name}", new { tag = new[] { tag }, fresh = "24h:5" }))
            {
                Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
                Assert.Equal("1d:5", (await put.Content.ReadFromJsonAsync<FreshScenarioReply>())!.Fresh);
            }
            var recentName = $"test-{Guid.NewGuid():N}";
            using (var put = await cluster.Http.PutAsJsonAsync($"/scenarios/{recentName}", new { tag = new[] { tag }, maxAge = "48h" }))
            {
                Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
                Assert.Equal("2d", (await put.Content.ReadFromJsonAsync<FreshScenarioReply>())!.MaxAge);
            }
            try
            {
                Assert.Equal([day, fresh], (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&scenario={recentName}")).Items.Select(i => i.Id));
                Assert.Equal([fresh], (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&scenario={recentName}&maxAge=1h")).Items.Select(i => i.Id));
                // The latest list takes a scenario's tag filter and maximum age, and a request's own replaces it.
                Assert.Equal([fresh, day], await Latest($"scenario={recentName}"));
                Assert.Equal([fresh], await Latest($"scenario={recentName}&maxAge=1h"));
            }
            finally
            {
                using (await cluster.Http.DeleteAsync($"/scenarios/{recentName}")) { }
            }
            try
            {
                Assert.Equal(boosted.Select(i => i.Id), (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&scenario={name}")).Items.Select(i => i.Id));
                Assert.Equal(heldBack.Select(i => i.Id),
                    (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&scenario={name}&fresh=1d:0.2")).Items.Select(i => i.Id));
                Assert.Equal("1d:5", (await cluster.GetJsonAsync<FreshScenarioReply>($"/scenarios/{name}")).Fresh);
                // Its freshness ranks by relevance: the latest list, ordered by time, is as without it.
                Assert.Equal([fresh, day, old], await Latest($"scenario={name}"));
            }
            finally
            {
                using (await cluster.Http.DeleteAsync($"/scenarios/{name}")) { }
            }
        }
        finally
        {
            await Hide(cluster, tag, fresh, day, old, undated);
        }
    }

    [Theory]
    [InlineData("/users/5/recommendations")]
    [InlineData("/items/2/similar")]
    [InlineData("/popular")]
    public async Task A_bad_fresh_is_a_problem_naming_the_parameter(string path)
    {
        string[] bad =
        [
            "fresh=6h", "fresh=6:3", "fresh=6x:3", "fresh=h:3", "fresh=-6h:3", "fresh=0.5m:2", "fresh=366d:2", "fresh=6h:0", "fresh=6h:101",
            "fresh=6h:abc", "fresh=6h:2&fresh=1h:2",
        ];
        await ServingChecks.EachIsAProblemNaming(cluster.Http, path, "fresh", bad, "fresh=6h:0", "has factor '0'", "fresh=1.5H:2");
        using var scenario = await cluster.Http.PutAsJsonAsync($"/scenarios/test-{Guid.NewGuid():N}", new { fresh = 6 });
        Assert.Equal(HttpStatusCode.BadRequest, scenario.StatusCode);
        Assert.Contains("fresh", await scenario.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_latest_list_refuses_bad_values_naming_each_and_parameters_it_does_not_take()
    {
        foreach (var (query, field) in new[] { ("k=0", "k"), ("k=1001", "k"), ("offset=-1", "offset"), ("maxAge=2w", "maxAge"), ("tag=", "tag"), ("fresh=6h:2", "fresh"), ("boost=a:2", "boost"),
                     ("cap=a", "cap"), ("capEach=a:0", "capEach"), ("pin=1", "pin"), ("slot=a:0", "slot"), ("scenario=no-such-scenario", "scenario") })
        {
            using var response = await cluster.Http.GetAsync($"/latest?{query}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal([field], (await response.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!.Keys);
        }
    }

    [Theory]
    [InlineData("/users/5/recommendations")]
    [InlineData("/items/2/similar")]
    [InlineData("/popular")]
    public async Task A_bad_max_age_is_a_problem_naming_the_parameter(string path)
    {
        string[] bad = ["maxAge=2", "maxAge=2w", "maxAge=d", "maxAge=-2d", "maxAge=0.5m", "maxAge=366d", "maxAge=2d:3", "maxAge=2d&maxAge=3d"];
        await ServingChecks.EachIsAProblemNaming(cluster.Http, path, "maxAge", bad, "maxAge=2", "maxAge '2' must be a number followed by m, h or d", "maxAge=1.5D");
        using var scenario = await cluster.Http.PutAsJsonAsync($"/scenarios/test-{Guid.NewGuid():N}", new { maxAge = "forever" });
        Assert.Equal(HttpStatusCode.BadRequest, scenario.StatusCode);
        Assert.Contains("maxAge", await scenario.Content.ReadAsStringAsync());
    }
}
