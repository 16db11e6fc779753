using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Serving;
using Xunit.Abstractions;

namespace Recommender.Cluster.Tests.Text;

/// <summary>
/// An item the model never saw, PUT with a text, is placed by the active version's text projection and served at
/// once: in the recommendations of users whose histories match its text and among the neighbours of related items.
/// </summary>
[Collection(TextCollection.Name)]
public sealed class NewItemTests(TextCluster cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task An_item_put_with_text_is_recommended_to_matching_users_and_similar_to_related_items_as_soon_as_its_put_returns()
    {
        var version = TestPackages.NewVersion("text");
        await TextPackages.UploadOk(cluster.Http, TextPackages.WithProjection(cluster.Seed, version, 16));
        var model = await cluster.GetJsonAsync<TextModelReply>($"/models/{version}");
        Assert.True(model.TextProjection, "the registry should list the version's text projection");
        Assert.Equal("id+text", model.ItemRepresentation);
        await TestPackages.Activate(cluster.Http, version);
        await cluster.WarmTextEncodersAsync();

        var id = $"space-{Guid.NewGuid():N}";
        var clock = Stopwatch.StartNew();
        using (var put = await cluster.Http.PutAsJsonAsync($"/items/{id}", new
        {
            title = "Starship Galaxy Rescue Mission",
            text = "An alien invasion threatens the space station; a rocket crew escapes through the asteroid belt.",
            tags = new[] { "Sci-Fi", "Adventure", "Action" },
        }))
        {
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
            var item = (await put.Content.ReadFromJsonAsync<TextItemReply>())!;
            Assert.True(item.Recommendable, "an item with text is recommendable at once under a version with a text projection");
            Assert.True(item.HasTextVector);
            Assert.Equal("text", item.VectorSource);
            Assert.Equal(version, item.Placement?.ModelVersion);
            Assert.Null(item.Placement?.DenseId);
        }
        var putTook = clock.Elapsed;

        // Space fans (odd users) get it; among the neighbours of a space movie it ranks high; kitchen fans do not get it.
        var spaceFans = Enumerable.Range(1, 10).Select(i => (2 * i - 1).ToString()).ToArray();
        var hits = 0;
        foreach (var user in spaceFans)
        {
            var reply = await cluster.GetJsonAsync<ExplainedRecommendationsReply>($"/users/{user}/recommendations?k=10");
            Assert.Equal(version, reply.ModelVersion);
            if (reply.Items.Any(i => i.Id == id)) hits++;
        }
        var similar = await cluster.GetJsonAsync<ExplainedRecommendationsReply>("/items/1/similar?k=10");
        var served = clock.Elapsed;

        // The reads come straight after the PUT, without waiting: what they show is what the PUT placed. (Their timing is
        // printed, not asserted: on two cores shared with other test runs it measures the machine's load.)
        output.WriteLine($"PUT answered after {putTook.TotalMilliseconds:0} ms; 10 recommendation reads and one similar-items read done {served.TotalMilliseconds:0} ms after the PUT started");
        Assert.True(hits >= 5, $"the new space item should be in the top 10 of at least half the space fans; it was for {hits} of {spaceFans.Length}");
        Assert.Contains(similar.Items, i => i.Id == id);

        var kitchenHits = 0;
        foreach (var user in Enumerable.Range(1, 10).Select(i => (2 * i).ToString()))
            if ((await cluster.GetJsonAsync<ExplainedRecommendationsReply>($"/users/{user}/recommendations?k=10")).Items.Any(i => i.Id == id)) kitchenHits++;
        Assert.True(kitchenHits <= 1, $"kitchen fans should not be shown the space item; {kitchenHits} of 10 were (space fans: {hits} of 10)");

        // Its own neighbours are space movies: the projection put it in the right part of the space.
        var own = await cluster.GetJsonAsync<ExplainedRecommendationsReply>($"/items/{id}/similar?k=10");
        Assert.True(own.Items.Count(i => int.TryParse(i.Id, out var m) && ThemedCatalogue.IsSpace(m)) >= 8,
            $"the new item's neighbours should be space movies: {string.Join(", ", own.Items.Select(i => i.Title))}");
    }

    [Fact]
    public async Task An_explicit_embedding_wins_over_the_text_projection()
    {
        var version = TestPackages.NewVersion("text");
        await TextPackages.UploadOk(cluster.Http, TextPackages.WithProjection(cluster.Seed, version, 16));
        await TestPackages.Activate(cluster.Http, version);

        // Two items with the same kitchen-romance text: one placed by its text, one by an explicit embedding.
        var body = new { title = "Bakery Wedding Cake Love Story", text = "A pastry chef falls in love at a cooking class.", tags = new[] { "Romance", "Comedy" } };
        var byText = $"by-text-{Guid.NewGuid():N}";
        var byEmbedding = $"by-embedding-{Guid.NewGuid():N}";
        var embedding = Enumerable.Range(0, 16).Select(i => i % 3 == 0 ? -1f : 0.5f).ToArray();
        using (var put = await cluster.Http.PutAsJsonAsync($"/items/{byText}", body))
            Assert.Equal("text", (await put.Content.ReadFromJsonAsync<TextItemReply>())!.VectorSource);
        using (var put = await cluster.Http.PutAsJsonAsync($"/items/{byEmbedding}", new { body.title, body.text, body.tags, embedding }))
        {
            var item = (await put.Content.ReadFromJsonAsync<TextItemReply>())!;
            Assert.Equal("embedding", item.VectorSource);
            Assert.True(item.HasTextVector, "the text vector is kept even when an embedding places the item");
        }

        var textNeighbours = (await cluster.GetJsonAsync<ExplainedRecommendationsReply>($"/items/{byText}/similar?k=10")).Items.Select(i => i.Id).ToArray();
        var embeddingNeighbours = (await cluster.GetJsonAsync<ExplainedRecommendationsReply>($"/items/{byEmbedding}/similar?k=10")).Items.Select(i => i.Id).ToArray();
        Assert.True(textNeighbours.Count(i => int.TryParse(i, out var m) && !ThemedCatalogue.IsSpace(m)) >= 8,
            $"the text-placed item should sit among kitchen movies: {string.Join(", ", textNeighbours)}");
        Assert.NotEqual(textNeighbours, embeddingNeighbours);
    }
}
