using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;

namespace Recommender.Cluster.Tests.Traffic;

/// <summary>
/// Exact ties in the sharded search. The merge ranks equal similarities by item id; the global top-K is only that
/// ranking when every shard breaks its own ties the same way, whatever order its rows were added in.
/// </summary>
[Collection(SmallClusterCollection.Name)]
public sealed class ShardTieBreakTests(Infrastructure.SmallCatalogueCluster cluster)
{
    [Fact]
    public async Task Items_with_equal_similarity_rank_by_id_whichever_shard_row_they_were_given()
    {
        var random = new Random(17);
        var vector = Enumerable.Range(0, 16).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var prefix = "tie-" + Guid.NewGuid().ToString("N");
        var query = vector.ToArray();
        query[0] += 0.25f;
        await Put($"{prefix}-query", query);

        // Twins with one embedding, added with ever smaller ids, until the newest shares a shard with an older one:
        // there it sits on a later row than a twin whose id sorts after it.
        var shards = new HashSet<int>();
        string newest;
        var letter = 'z';
        while (true)
        {
            newest = $"{prefix}-{letter--}";
            var placement = await Put(newest, vector);
            if (!shards.Add(placement.Shard)) break;
        }

        var similar = await cluster.GetJsonAsync<SimilarReply>($"/items/{prefix}-query/similar?k=1");
        Assert.Equal(newest, similar.Items.Single().Id);
    }

    private async Task<PlacementReply> Put(string id, float[] embedding)
    {
        using var response = await cluster.Http.PutAsJsonAsync($"/items/{id}", new { title = "Tie " + id, embedding });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ItemReply>())!.Placement!;
    }
}
