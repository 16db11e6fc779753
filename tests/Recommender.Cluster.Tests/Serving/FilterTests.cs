using System.Net;
using System.Net.Http.Json;
using Recommender.Abstractions;
using Recommender.Cluster.Tests.Api;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>Seen-item exclusion (and includeSeen), dismissed items, exclude=, tag= applied inside the shard scan, and the live popularity list of cold users.</summary>
[Collection(ServingCollection.Name)]
public sealed class FilterTests(ServingCluster cluster)
{
    [Fact]
    public async Task Exclusions_and_tag_filters_hold_and_still_return_k_items()
    {
        var seen = (await cluster.GetJsonAsync<HistoryReply>("/users/5/history")).Events.Select(e => e.ItemId).ToHashSet();
        var plain = await cluster.GetJsonAsync<RecommendationsReply>("/users/5/recommendations?k=10");
        Assert.Equal(10, plain.Items.Count);
        Assert.DoesNotContain(plain.Items, i => seen.Contains(i.Id));

        var excluded = plain.Items.Take(4).Select(i => i.Id).ToArray();
        var without = await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&exclude={string.Join(",", excluded)}");
        Assert.Equal(10, without.Items.Count);
        Assert.DoesNotContain(without.Items, i => excluded.Contains(i.Id) || seen.Contains(i.Id));
        Assert.Equal(plain.Items.Skip(4).Select(i => i.Id), without.Items.Take(6).Select(i => i.Id));

        // User 5 mostly rated odd (action) movies; a Drama filter must still fill k from the even ones.
        var drama = await cluster.GetJsonAsync<RecommendationsReply>("/users/5/recommendations?k=15&tag=drama");
        Assert.Equal(15, drama.Items.Count);
        Assert.All(drama.Items, i => Assert.True(int.Parse(i.Id) % 2 == 0, $"{i.Id} is not a drama"));
        Assert.DoesNotContain(drama.Items, i => seen.Contains(i.Id));

        var withSeen = await cluster.GetJsonAsync<RecommendationsReply>("/users/5/recommendations?k=120&includeSeen=true");
        Assert.Contains(withSeen.Items, i => seen.Contains(i.Id));
        Assert.Empty((await cluster.GetJsonAsync<RecommendationsReply>("/users/5/recommendations?k=10&tag=no-such-genre")).Items);

        Assert.Equal(HttpStatusCode.BadRequest, (await cluster.Http.GetAsync("/users/5/recommendations?includeSeen=maybe")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await cluster.Http.GetAsync("/users/5/recommendations?tag=%20")).StatusCode);
    }

    [Fact]
    public async Task A_dismissed_item_is_not_recommended_again_until_a_later_event_takes_it_up()
    {
        var user = $"dismisser-{Guid.NewGuid():N}";
        var liked = (await cluster.GetJsonAsync<HistoryReply>("/users/5/history")).Events.Select(e => e.ItemId).Distinct().Take(5).ToArray();
        await ServingChecks.Post(cluster.Http, [.. liked.Select(item => (object)new { userId = user, itemId = item, type = "view", timestamp = ServingChecks.Now() })]);
        var before = await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=10");
        Assert.Equal("model", before.Source);
        var top = before.Items[0].Id;

        await ServingChecks.Post(cluster.Http, new { userId = user, itemId = top, type = "DISMISS", timestamp = ServingChecks.Now() });
        Assert.Equal("dismiss", (await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history")).Events[^1].Type);
        // The model reads the same items as before, so the vector is the one cached and the list is the earlier one without the item.
        var after = await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=10");
        Assert.Equal(before.ModelVersion, after.ModelVersion);
        Assert.True(after.Cached);
        Assert.Equal(before.Items.Skip(1).Select(i => i.Id), after.Items.Take(9).Select(i => i.Id));
        // Asking for the items the user has had does not bring it back either.
        var withSeen = (await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=1000&includeSeen=true")).Items.Select(i => i.Id).ToArray();
        Assert.DoesNotContain(top, withSeen);
        Assert.Contains(withSeen, liked.Contains);
        // Pinned, it is named as dismissed, whether seen items are listed or not.
        foreach (var query in new[] { "k=10", "k=10&includeSeen=true" })
            Assert.Equal([new(top, 1, "dismissed")], (await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?{query}&pin={top}:1")).UnplacedPins!);

        // A view after the dismissal takes the item up: it is an item the user has had, and the model reads it.
        await ServingChecks.Post(cluster.Http, new { userId = user, itemId = top, type = "view", timestamp = ServingChecks.Now() });
        var takenUp = await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=10");
        Assert.False(takenUp.Cached);
        Assert.DoesNotContain(top, takenUp.Items.Select(i => i.Id));
        Assert.Contains(top, (await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=1000&includeSeen=true")).Items.Select(i => i.Id));
    }

    [Fact]
    public async Task An_exclude_list_as_long_as_the_api_allows_fits_in_the_request_and_one_more_id_is_a_problem()
    {
        var plain = await cluster.GetJsonAsync<RecommendationsReply>("/users/5/recommendations?k=10");
        // 1,000 ids of 40 characters: a 41 KB query, five times the web server's default limit for a request line.
        var ids = plain.Items.Take(4).Select(i => i.Id)
            .Concat(Enumerable.Range(0, Limits.MaxExclude - 4).Select(n => $"out-of-stock-{n:D6}-{new string('x', 20)}")).ToArray();
        Assert.True(string.Join(",", ids).Length > 40_000);
        using (var response = await cluster.Http.GetAsync($"/users/5/recommendations?k=10&exclude={string.Join(",", ids)}"))
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            var without = (await response.Content.ReadFromJsonAsync<RecommendationsReply>())!;
            Assert.Equal(plain.Items.Skip(4).Select(i => i.Id), without.Items.Take(6).Select(i => i.Id));
        }
        // The same list split between exclude and excludeId, and then one id too many: a problem that names the parameter.
        var split = $"exclude={string.Join(",", ids[..500])}&{string.Join("&", ids[500..].Select(id => "excludeId=" + id))}";
        using (var response = await cluster.Http.GetAsync($"/users/5/recommendations?k=10&{split}"))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using (var response = await cluster.Http.GetAsync($"/users/5/recommendations?k=10&{split}&excludeId=one-too-many"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("exclude and excludeId name 1001 ids together; the limit is 1000.", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task ExcludeId_names_an_id_that_holds_a_comma_which_exclude_splits()
    {
        var models = await cluster.GetJsonAsync<ModelsReply>("/models");
        var dimension = models.Models.Single(m => m.Version == models.Active).Dimension;
        var tag = $"only-{Guid.NewGuid():N}";
        var comma = $"Shirt, blue {tag}";
        var plain = $"shirt-{tag}";
        var random = new Random(11);
        foreach (var id in new[] { comma, plain })
        {
            var embedding = Enumerable.Range(0, dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            using var put = await cluster.Http.PutAsJsonAsync($"/items/{Uri.EscapeDataString(id)}", new { title = id, tags = new[] { tag }, embedding });
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        }
        async Task<string[]> Ranked(string query) =>
            (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=5&tag={tag}{query}")).Items.Select(i => i.Id).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(new[] { comma, plain }.Order(StringComparer.Ordinal), await Ranked(""));
        Assert.Equal([plain], await Ranked($"&excludeId={Uri.EscapeDataString(comma)}"));
        Assert.Empty(await Ranked($"&excludeId={Uri.EscapeDataString(comma)}&excludeId={plain}"));
        Assert.Empty(await Ranked($"&exclude={plain}&excludeId={Uri.EscapeDataString(comma)}"));
        // exclude= reads the same text as two ids, "Shirt" and "blue ...", neither of which is the item.
        Assert.Equal(new[] { comma, plain }.Order(StringComparer.Ordinal), await Ranked($"&exclude={Uri.EscapeDataString(comma)}"));
    }

    [Fact]
    public async Task A_cold_user_gets_popular_items_that_follow_recent_events()
    {
        var cold = await cluster.GetJsonAsync<RecommendationsReply>($"/users/cold-{Guid.NewGuid():N}/recommendations?k=5");
        Assert.Equal("popularity", cold.Source);
        Assert.Equal(5, cold.Items.Count);

        // A burst of recent events on two movies, spread over many users (so over both silos' accumulators).
        // Movies 47 and 48 are in every version the other tests activate; other tests' traffic adds a few events per movie at most.
        var hot = new[] { "47", "48" };
        var burst = Enumerable.Range(0, 150).Select(i => (object)new { userId = $"fan-{i}-{Guid.NewGuid():N}", itemId = hot[i < 100 ? 0 : 1], type = "purchase", timestamp = ServingChecks.Now() }).ToArray();
        await ServingChecks.Post(cluster.Http, burst);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        RecommendationsReply reply;
        do
        {
            await Task.Delay(200);
            reply = await cluster.GetJsonAsync<RecommendationsReply>($"/users/cold-{Guid.NewGuid():N}/recommendations?k=5");
        } while (reply.Items.Take(2).Select(i => i.Id).SequenceEqual(hot) is false && DateTime.UtcNow < deadline);
        Assert.Equal("popularity", reply.Source);
        Assert.Equal(hot, reply.Items.Take(2).Select(i => i.Id));
        Assert.Equal(Infrastructure.SmallCatalogue.Title(47), reply.Items[0].Title);

        // Filters apply to the popular list too. (Each silo rebuilds its list every 200 ms: a cold user on the other silo may wait one rebuild.)
        RecommendationsReply filtered;
        do filtered = await cluster.GetJsonAsync<RecommendationsReply>($"/users/cold-{Guid.NewGuid():N}/recommendations?k=5&exclude=47&tag=Drama");
        while (filtered.Items[0].Id != "48" && DateTime.UtcNow < deadline + TimeSpan.FromSeconds(2));
        Assert.Equal("48", filtered.Items[0].Id);
        Assert.Equal(5, filtered.Items.Count);
        Assert.All(filtered.Items, i => Assert.True(int.Parse(i.Id) % 2 == 0));
    }
    [Fact]
    public async Task A_renamed_and_retagged_item_appears_in_the_popular_list_as_it_is_now()
    {
        static string Cold() => $"/users/cold-{Guid.NewGuid():N}/recommendations";
        var listed = await cluster.GetJsonAsync<RecommendationsReply>(Cold() + "?k=1000");
        Assert.Equal("popularity", listed.Source);
        // The last of all: an entry of the seeded list only (live items, those other tests sent events for, rank first).
        var id = listed.Items[^1].Id;
        var original = await cluster.GetJsonAsync<ItemReply>($"/items/{id}");
        var tag = "renamed-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            using (var put = await cluster.Http.PutAsJsonAsync($"/items/{id}", new { title = "Renamed " + id, text = original.Text, tags = new[] { tag } }))
                Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            RecommendationsReply all, tagged;
            do
            {
                await Task.Delay(200);
                all = await cluster.GetJsonAsync<RecommendationsReply>(Cold() + "?k=1000");
                tagged = await cluster.GetJsonAsync<RecommendationsReply>(Cold() + $"?k=5&tag={tag}");
            } while ((all.Items.Single(i => i.Id == id).Title != "Renamed " + id || tagged.Items.Count == 0) && DateTime.UtcNow < deadline);
            Assert.Equal("Renamed " + id, all.Items.Single(i => i.Id == id).Title);
            Assert.Equal([id], tagged.Items.Select(i => i.Id));
            // The old tags no longer select it.
            foreach (var old in original.Tags)
                Assert.DoesNotContain(id, (await cluster.GetJsonAsync<RecommendationsReply>(Cold() + $"?k=1000&tag={Uri.EscapeDataString(old)}")).Items.Select(i => i.Id));
        }
        finally
        {
            using var restore = await cluster.Http.PutAsJsonAsync($"/items/{id}", new { title = original.Title, text = original.Text, tags = original.Tags });
            Assert.Equal(HttpStatusCode.OK, restore.StatusCode);
        }
    }
}
