using System.Net.Http.Json;
using Recommender.Cluster.Tests.Serving;

namespace Recommender.Cluster.Tests.Text;

/// <summary>
/// Items keep their raw text vector: an ID-only version cannot place them (and says so), every version with a text
/// projection projects them again when it is activated, before the pointer moves.
/// </summary>
[Collection(TextCollection.Name)]
public sealed class ReprojectionTests(TextCluster cluster)
{
    [Fact]
    public async Task Activating_a_version_with_a_projection_reprojects_every_text_item_and_an_id_only_version_says_it_cannot()
    {
        var idOnly = TestPackages.NewVersion("ids");
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, idOnly, 16));
        await TestPackages.Activate(cluster.Http, idOnly);

        var single = $"kitchen-{Guid.NewGuid():N}";
        using (var put = await cluster.Http.PutAsJsonAsync($"/items/{single}", new { title = "Chocolate Bistro Valentine", text = "Two chefs fall in love over a recipe.", tags = new[] { "Romance" } }))
        {
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
            var item = (await put.Content.ReadFromJsonAsync<TextItemReply>())!;
            Assert.False(item.Recommendable);
            Assert.True(item.HasTextVector);
            Assert.Null(item.VectorSource);
            Assert.Contains("text projection", item.Note);
        }
        var bulk = Enumerable.Range(0, 3).Select(i => $"space-bulk-{i}-{Guid.NewGuid():N}").ToArray();
        using (var post = await cluster.Http.PostAsJsonAsync("/items", bulk.Select(id => new { id, title = $"Comet Colony Escape {id[..12]}", tags = new[] { "Sci-Fi", "Adventure" } }).ToArray()))
        {
            Assert.True(post.IsSuccessStatusCode, await post.Content.ReadAsStringAsync());
            var reply = (await post.Content.ReadFromJsonAsync<TextItemsReply>())!;
            Assert.All(reply.Items, i => Assert.True(!i.Recommendable && i.HasTextVector && i.Note is not null, $"{i.Id}: {i}"));
        }
        var textItems = bulk.Append(single).ToArray();

        // A version with a projection places all of them while it activates.
        var first = TestPackages.NewVersion("text16");
        await TextPackages.UploadOk(cluster.Http, TextPackages.WithProjection(cluster.Seed, first, 16));
        var activation = await TestPackages.Activate(cluster.Http, first);
        Assert.True(activation.CarriedItems >= textItems.Length, $"carried {activation.CarriedItems}");
        Assert.DoesNotContain(activation.NotRecommendable, textItems.Contains);
        foreach (var id in textItems)
        {
            var item = await cluster.GetJsonAsync<TextItemReply>($"/items/{id}");
            Assert.True(item.Recommendable && item.VectorSource == "text" && item.Placement!.ModelVersion == first, $"{id} under {first}: {item}");
        }
        var kitchenNeighbours = await cluster.GetJsonAsync<ExplainedRecommendationsReply>($"/items/{single}/similar?k=10");
        Assert.True(kitchenNeighbours.Items.Count(i => int.TryParse(i.Id, out var m) && !ThemedCatalogue.IsSpace(m)) >= 7,
            $"the kitchen item should sit among kitchen movies: {string.Join(", ", kitchenNeighbours.Items.Select(i => i.Title))}");

        // Another dimension: the old projections cannot be carried, so they are projected again.
        var second = TestPackages.NewVersion("text8");
        await TextPackages.UploadOk(cluster.Http, TextPackages.WithProjection(cluster.Seed, second, 8));
        activation = await TestPackages.Activate(cluster.Http, second);
        Assert.DoesNotContain(activation.NotRecommendable, textItems.Contains);
        foreach (var id in textItems)
        {
            var item = await cluster.GetJsonAsync<TextItemReply>($"/items/{id}");
            Assert.True(item.Recommendable && item.VectorSource == "text" && item.Placement!.ModelVersion == second, $"{id} under {second}: {item}");
        }
        var similar = await cluster.GetJsonAsync<ExplainedRecommendationsReply>($"/items/{bulk[0]}/similar?k=10");
        Assert.Equal(second, similar.ModelVersion);
        Assert.True(similar.Items.Count(i => int.TryParse(i.Id, out var m) && ThemedCatalogue.IsSpace(m)) >= 7,
            $"the re-projected space item should sit among space movies: {string.Join(", ", similar.Items.Select(i => i.Title))}");

        // Back to the ID-only version: the text items are listed as not recommendable, and their text vectors are still kept.
        activation = await TestPackages.Activate(cluster.Http, idOnly);
        Assert.All(textItems, id => Assert.Contains(id, activation.NotRecommendable));
        var after = await cluster.GetJsonAsync<TextItemReply>($"/items/{single}");
        Assert.False(after.Recommendable);
        Assert.True(after.HasTextVector);

        // And forward again, from a version that never held them: the vectors come from the items themselves.
        activation = await TestPackages.Activate(cluster.Http, first);
        Assert.DoesNotContain(activation.NotRecommendable, textItems.Contains);
        Assert.Equal("text", (await cluster.GetJsonAsync<TextItemReply>($"/items/{single}")).VectorSource);
    }
}
