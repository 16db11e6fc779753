using System.Net;
using System.Net.Http.Json;
using System.Numerics.Tensors;
using Orleans.Concurrency;
using Recommender.Abstractions;
using Recommender.Cluster.Tests.Api;
using Recommender.Grains.Ranking;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// diversity= on the serving cluster: the list is picked from the best 4·k by maximal marginal relevance, so its items
/// are less alike than the plain top-k, the filters still hold, and sessions take it too.
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class DiversityTests(ServingCluster cluster)
{
    /// <summary>The active version's vectors of <paramref name="ids"/>, read from its shards.</summary>
    private async Task<Dictionary<string, float[]>> Vectors(IReadOnlyCollection<string> ids)
    {
        var grains = cluster.Cluster.Client;
        var model = (await grains.GetGrain<ICatalogueGrain>(0).GetSnapshot()).Model!;
        var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        for (var shard = 0; shard < model.Shards; shard++)
        {
            var found = await grains.GetGrain<IItemShardGrain>($"{model.Version}/{shard}-of-{model.Shards}").GetVectors(new Immutable<string[]>([.. ids]));
            var values = VectorBytes.ToFloats(found.Vectors);
            for (var i = 0; i < found.ItemIds.Length; i++) vectors[found.ItemIds[i]] = values[(i * model.Dimension)..((i + 1) * model.Dimension)];
        }
        Assert.Equal(ids.Count, vectors.Count);
        return vectors;
    }

    /// <summary>The mean cosine similarity of every pair of the list's items.</summary>
    private async Task<double> MeanPairwiseCosine(IReadOnlyList<RecommendedItemReply> items)
    {
        var vectors = await Vectors(items.Select(i => i.Id).ToArray());
        double sum = 0;
        var pairs = 0;
        for (var a = 0; a < items.Count; a++)
            for (var b = a + 1; b < items.Count; b++, pairs++)
                sum += TensorPrimitives.CosineSimilarity(vectors[items[a].Id], vectors[items[b].Id]);
        return sum / pairs;
    }

    [Fact]
    public async Task A_diverse_list_holds_items_less_alike_than_the_plain_top_k_drawn_from_the_best_four_k()
    {
        var seen = (await cluster.GetJsonAsync<HistoryReply>("/users/5/history")).Events.Select(e => e.ItemId).ToHashSet();
        var plain = await cluster.GetJsonAsync<RecommendationsReply>("/users/5/recommendations?k=10");
        var pool = (await cluster.GetJsonAsync<RecommendationsReply>("/users/5/recommendations?k=40")).Items.Select(i => i.Id).ToHashSet();
        Assert.Equal(plain.Items.Select(i => i.Id), (await cluster.GetJsonAsync<RecommendationsReply>("/users/5/recommendations?k=10&diversity=0")).Items.Select(i => i.Id));

        var alike = await MeanPairwiseCosine(plain.Items);
        var previous = alike;
        foreach (var lambda in new[] { "0.5", "1" })
        {
            var diverse = await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&diversity={lambda}");
            Assert.Equal("model", diverse.Source);
            Assert.Equal(10, diverse.Items.Select(i => i.Id).Distinct().Count());
            Assert.Equal(plain.Items[0].Id, diverse.Items[0].Id);
            Assert.All(diverse.Items, i => Assert.True(pool.Contains(i.Id) && !seen.Contains(i.Id), $"{i.Id} is outside the best 40 or seen"));
            Assert.Equal(1, diverse.Items.Sum(i => i.Score), 6);
            var cosine = await MeanPairwiseCosine(diverse.Items);
            Assert.True(cosine < previous, $"diversity={lambda}: mean pairwise cosine {cosine:F4}, not below {previous:F4}");
            previous = cosine;
        }

        // Filters apply to the pool: a tag and an exclusion hold, and explanations come along.
        var excluded = plain.Items[0].Id;
        var drama = await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=8&tag=drama&diversity=0.7&exclude={excluded}&explain=true");
        Assert.Equal(8, drama.Items.Count);
        Assert.All(drama.Items, i => Assert.True(int.Parse(i.Id) % 2 == 0 && i.Id != excluded && !seen.Contains(i.Id), $"{i.Id} breaks the filters"));
        using var explained = await cluster.Http.GetAsync($"/users/5/recommendations?k=3&diversity=0.7&explain=true");
        Assert.Contains("\"because\"", await explained.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_session_takes_diversity_and_a_bad_value_is_a_problem_naming_it()
    {
        var items = (await cluster.GetJsonAsync<HistoryReply>("/users/5/history")).Events.Select(e => e.ItemId).Distinct().Take(6).ToArray();
        using var plainResponse = await cluster.Http.PostAsJsonAsync("/recommendations?k=10", new { items });
        var plain = (await plainResponse.Content.ReadFromJsonAsync<SessionRecommendationsReply>())!;
        using var diverseResponse = await cluster.Http.PostAsJsonAsync("/recommendations?k=10&diversity=1", new { items });
        var diverse = (await diverseResponse.Content.ReadFromJsonAsync<SessionRecommendationsReply>())!;
        Assert.Equal("model", diverse.Source);
        Assert.Equal(plain.Items[0].Id, diverse.Items[0].Id);
        Assert.True(await MeanPairwiseCosine(diverse.Items) < await MeanPairwiseCosine(plain.Items));

        foreach (var bad in new[] { "1.5", "-0.1", "abc", "NaN", "Infinity", "" })
        {
            using var response = await cluster.Http.GetAsync($"/users/5/recommendations?diversity={bad}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = (await response.Content.ReadFromJsonAsync<ProblemReply>())!;
            Assert.Contains("diversity must be a number from 0", Assert.Single(problem.Errors!["diversity"]));
        }
    }

    [Fact]
    public async Task Similar_items_take_the_same_filters_and_the_previous_releases_call_still_answers()
    {
        var plain = await cluster.GetJsonAsync<SimilarReply>("/items/2/similar?k=10");
        Assert.Equal(10, plain.Items.Count);
        // A front end of the previous release asks the search grain without a filter: same answer.
        var old = await cluster.Cluster.Client.GetGrain<ISearchGrain>(0).Similar("2", 10);
        Assert.Equal(plain.Items.Select(i => i.Id), old!.Items.Select(i => i.ItemId));

        var excluded = plain.Items[0].Id;
        var filtered = await cluster.GetJsonAsync<SimilarReply>($"/items/2/similar?k=10&tag=drama&exclude={excluded}");
        Assert.Equal(10, filtered.Items.Count);
        Assert.All(filtered.Items, i => Assert.True(int.Parse(i.Id) % 2 == 0 && i.Id != excluded && i.Id != "2", $"{i.Id} breaks the filters"));

        var diverse = await cluster.GetJsonAsync<SimilarReply>("/items/2/similar?k=10&diversity=0.7");
        Assert.Equal(plain.Items[0].Id, diverse.Items[0].Id);
        Assert.DoesNotContain(diverse.Items, i => i.Id == "2");
        Assert.True(await MeanPairwiseCosine(diverse.Items) < await MeanPairwiseCosine(plain.Items));

        using var bad = await cluster.Http.GetAsync("/items/2/similar?diversity=2&tag=%20");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = (await bad.Content.ReadFromJsonAsync<ProblemReply>())!;
        Assert.True(problem.Errors!.ContainsKey("diversity") && problem.Errors.ContainsKey("tag"), string.Join(", ", problem.Errors.Keys));
    }

    [Fact]
    public async Task A_diverse_popular_list_keeps_its_other_places_apart_from_its_pinned_item()
    {
        await ServingChecks.WhileTheLiveListSettles(async () =>
        {
            var popular = (await cluster.GetJsonAsync<PopularReply>("/popular?k=12")).Items.Select(i => i.Id).ToArray();
            var vectors = await Vectors(popular);
            // Pinned at the top of a list of two picked at diversity 1, an item leaves the second place to the item of
            // the pool (the eight most popular others) least like it, not to the most popular; one whose least-like
            // item is the most popular anyway would not tell, so the first that does is pinned.
            var (pinned, unlike, _) = popular.Take(4)
                .Select(p => (Pinned: p, Pool: popular.Where(id => id != p).Take(DiverseSelection.PoolSize(2)).ToArray()))
                .Select(c => (c.Pinned, Unlike: c.Pool.MinBy(id => TensorPrimitives.CosineSimilarity(vectors[id], vectors[c.Pinned]))!, Top: c.Pool[0]))
                .First(c => c.Unlike != c.Top);
            var list = (await cluster.GetJsonAsync<PopularReply>($"/popular?k=2&diversity=1&pin={pinned}:1")).Items.Select(i => i.Id);
            Assert.Equal((string[])[pinned, unlike], list);
            Assert.Equal(popular, (await cluster.GetJsonAsync<PopularReply>("/popular?k=12")).Items.Select(i => i.Id));
        });
    }

    /// <summary>
    /// The most popular forty once every silo's list has taken in what the tests before wrote and activated (each silo
    /// rebuilds its own, every 200 ms here): the same list read eight times running, half a second or more.
    /// </summary>
    private async Task<HashSet<string>> SettledPool()
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string[] last = [];
        for (var same = 0; same < 8 && DateTime.UtcNow < deadline; await Task.Delay(60))
        {
            var pool = (await cluster.GetJsonAsync<PopularReply>("/popular?k=40")).Items.Select(i => i.Id).ToArray();
            same = pool.SequenceEqual(last) ? same + 1 : 0;
            last = pool;
        }
        return [.. last];
    }

    [Fact]
    public async Task The_popular_list_is_diversified_the_same_way_for_visitors_and_users_without_history()
    {
        var pool = await SettledPool();
        var plain = await cluster.GetJsonAsync<PopularReply>("/popular?k=10");
        Assert.Equal(plain.Items.Select(i => i.Id), (await cluster.GetJsonAsync<PopularReply>("/popular?k=10&diversity=0")).Items.Select(i => i.Id));

        var diverse = await cluster.GetJsonAsync<PopularReply>("/popular?k=10&diversity=1");
        Assert.Equal(10, diverse.Items.Select(i => i.Id).Distinct().Count());
        // The most popular item first, then each one unlike those before it, all from the most popular forty.
        Assert.Equal(plain.Items[0].Id, diverse.Items[0].Id);
        Assert.Subset(pool, diverse.Items.Select(i => i.Id).ToHashSet());
        Assert.NotEqual(plain.Items.Select(i => i.Id), diverse.Items.Select(i => i.Id));
        var alike = await MeanPairwiseCosine(plain.Items);
        var unlike = await MeanPairwiseCosine(diverse.Items);
        Assert.True(unlike < alike, $"mean pairwise cosine {unlike:F4} of the diverse popular list, not below {alike:F4}");

        // A user without history gets the popular list, diversified alike; so does an empty session.
        var cold = await cluster.GetJsonAsync<RecommendationsReply>($"/users/cold-{Guid.NewGuid():N}/recommendations?k=10&diversity=1");
        Assert.Equal("popularity", cold.Source);
        Assert.Equal(diverse.Items.Select(i => i.Id), cold.Items.Select(i => i.Id));
        using (var session = await cluster.Http.PostAsJsonAsync("/recommendations?k=10&diversity=1", new { items = Array.Empty<string>() }))
            Assert.Equal(diverse.Items.Select(i => i.Id), (await session.Content.ReadFromJsonAsync<SessionRecommendationsReply>())!.Items.Select(i => i.Id));

        // The filters still hold, and a page of a diverse list is refused as for a model list.
        var excluded = diverse.Items[1].Id;
        var filtered = await cluster.GetJsonAsync<PopularReply>($"/popular?k=6&tag=drama&exclude={excluded}&diversity=0.7");
        Assert.DoesNotContain(filtered.Items, i => i.Id == excluded);
        Assert.NotEmpty(filtered.Items);
        using var paged = await cluster.Http.GetAsync("/popular?k=5&offset=5&diversity=0.5");
        Assert.Equal(HttpStatusCode.BadRequest, paged.StatusCode);
        Assert.Contains("offset does not combine with diversity", (await paged.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!["offset"][0]);
        using var bad = await cluster.Http.GetAsync("/popular?diversity=2");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }
}
