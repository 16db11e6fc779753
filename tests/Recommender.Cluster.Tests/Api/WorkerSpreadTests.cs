using System.Net.Http.Json;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Grains.Items;
using Recommender.Grains.Search;

namespace Recommender.Cluster.Tests.Api;

/// <summary>
/// The stateless workers a front end calls run on every silo: a client sends a grain's calls through one gateway, and
/// a stateless worker runs where a call arrives, so under one key a front end's item batches and similar-item reads
/// would all run on one silo. (Sessions: <see cref="SessionTests"/>.)
/// </summary>
[Collection(SmallClusterCollection.Name)]
public sealed class WorkerSpreadTests(SmallCatalogueCluster cluster)
{
    /// <summary>Activations of <typeparamref name="TGrain"/> by silo.</summary>
    private async Task<Dictionary<SiloAddress, int>> Activations<TGrain>()
    {
        var statistics = await cluster.Cluster.Client.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics();
        var counts = cluster.Cluster.Silos.ToDictionary(s => s.SiloAddress, _ => 0);
        foreach (var s in statistics.Where(s => s.GrainType.StartsWith(typeof(TGrain).FullName + ",", StringComparison.Ordinal)))
            counts[s.SiloAddress] += s.ActivationCount;
        return counts;
    }

    [Fact]
    public async Task Item_batches_and_similar_item_reads_run_on_every_silo()
    {
        var batchesBefore = await Activations<ItemBatchGrain>();
        var run = Guid.NewGuid().ToString("N")[..8];
        for (var i = 0; i < 24; i++)
        {
            using var bulk = await cluster.Http.PostAsJsonAsync("/items", new[] { new { id = $"spread-{run}-{i}", title = $"Spread {i}" } });
            Assert.True(bulk.IsSuccessStatusCode, await bulk.Content.ReadAsStringAsync());
        }
        var batches = await Activations<ItemBatchGrain>();
        Assert.All(batches, silo => Assert.True(silo.Value > batchesBefore[silo.Key], $"item batch workers by silo: {string.Join(", ", batches.Values)}"));

        // The user grains' searches run on their own silos under one key; similar items come from the front end. (The
        // client gives each grain it has not called before the next gateway in turn, so the items are read first: else
        // the item check before each search would take every other turn, and the searches would all get the same one.)
        for (var movie = 1; movie <= 24; movie++) await cluster.GetJsonAsync<ItemReply>($"/items/{movie}");
        var searchesBefore = await Activations<SearchGrain>();
        for (var movie = 1; movie <= 24; movie++)
            Assert.Equal(3, (await cluster.GetJsonAsync<SimilarReply>($"/items/{movie}/similar?k=3")).Items.Count);
        var searches = await Activations<SearchGrain>();
        Assert.All(searches, silo => Assert.True(silo.Value > searchesBefore[silo.Key], $"search workers by silo: {string.Join(", ", searches.Values)}, before {string.Join(", ", searchesBefore.Values)}"));
    }
}
