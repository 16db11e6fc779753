using Recommender.Abstractions;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Cluster.Tests.Text;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;

namespace Recommender.Cluster.Tests.Api;

/// <summary>The real bundled MovieLens demo, loaded end to end into a two-silo cluster (serving the bundled SASRec package, new movies placed by its text projection), then the whole cluster restarted on the same store.</summary>
public sealed class DemoSeedTests
{
    [Fact]
    public async Task The_bundled_demo_serves_titled_movies_and_survives_a_full_restart_without_reseeding()
    {
        var movies = File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Demo", "ml-latest-small", "movies.csv")).Skip(1)
            .Select(Hosting.Demo.MovieLensCatalogue.SplitCsv).ToDictionary(f => f[0], f => (Title: f[1], Genres: f[2]));
        var ratings = File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Demo", "ml-latest-small", "ratings.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        var ratingsOfUser1 = ratings.Count(r => r[0] == "1");
        var rated = ratings.Select(r => r[1]).ToHashSet();
        var unrated = movies.Keys.Where(id => !rated.Contains(id)).ToArray();
        Assert.NotEmpty(unrated);
        var directory = Path.Combine(Path.GetTempPath(), "recommender-tests", "demo-" + Guid.NewGuid().ToString("N"));
        var options = new ClusterFixtureOptions { Silos = 2, DataDirectory = directory };
        long revision;
        await using (var first = new Fixture(options))
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await first.StartAsync();
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), $"seeding took {clock.Elapsed}");

            // The bundled SASRec package serves; the baseline built at seeding stays registered as the fallback.
            var models = await first.GetJsonAsync<Serving.ModelsReply>("/models");
            Assert.Equal(DemoModel, models.Active);
            Assert.Equal("sasrec", models.Models.Single(m => m.Version == DemoModel).Kind);
            Assert.Equal("active", models.Models.Single(m => m.Version == DemoModel).State);
            var baseline = models.Models.Single(m => m.Version == "recency-mean-ml-latest-small-d64");
            Assert.Equal(("registered", true), (baseline.State, baseline.Fallback));

            var reply = await first.GetJsonAsync<RecommendationsReply>("/users/1/recommendations?k=10");
            Assert.Equal("model", reply.Source);
            Assert.Equal(DemoModel, reply.ModelVersion);
            Assert.Equal(10, reply.Items.Count);
            Assert.All(reply.Items, i => Assert.Equal(movies[i.Id].Title, i.Title));
            // The transformer's own top 10 for user 1, computed here from the package alone: the cluster maps movie ids to the model's rows correctly.
            Assert.Equal(ExpectedTop(10, "1"), reply.Items.Select(i => i.Id).ToArray());
            // A SASRec version's scores are its own probabilities over the returned items: softmax of the logits at temperature 1.
            Assert.All(reply.Items, i => Assert.Equal(Math.Exp(i.Similarity - reply.Items[0].Similarity), i.Score / reply.Items[0].Score, 1e-6));
            var history = await first.GetJsonAsync<HistoryReply>("/users/1/history");
            Assert.Equal(ratingsOfUser1, history.TotalCount);
            Assert.DoesNotContain(reply.Items, i => history.Events.Any(e => e.ItemId == i.Id));
            Assert.Equal("Toy Story (1995)", (await first.GetJsonAsync<ItemReply>("/items/1")).Title);

            // The bundled package carries a text projection: a movie nobody has rated, given only a title, genres and
            // tags, is recommendable as soon as its PUT returns, and its nearest movies are animated ones like it.
            var demo = await first.GetJsonAsync<TextModelReply>($"/models/{DemoModel}");
            Assert.Equal(("id+text", true), (demo.ItemRepresentation, demo.TextProjection));
            using (var put = await first.Http.PutAsJsonAsync($"/items/{NewMovie}", new
            {
                title = "Toy Box Rescue",
                text = "Adventure, Animation, Children, Comedy, Fantasy",
                tags = new[] { "pixar", "toys", "friendship", "animation" },
            }))
            {
                Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
                var item = (await put.Content.ReadFromJsonAsync<TextItemReply>())!;
                Assert.Equal((true, "text", DemoModel), (item.Recommendable, item.VectorSource, item.Placement?.ModelVersion));
            }
            // The demo's movies that nobody rated have no trained row either: the demo load placed them by their text.
            foreach (var id in unrated)
            {
                var movie = await first.GetJsonAsync<TextItemReply>($"/items/{id}");
                Assert.True((movie.Recommendable, movie.VectorSource) == (true, "text"), $"unrated movie {id} ({movie.Title}): recommendable {movie.Recommendable}, vector source {movie.VectorSource}");
            }
            var neighbours = await first.GetJsonAsync<RecommendationsReply>($"/items/{NewMovie}/similar?k=10");
            var animated = neighbours.Items.Count(i => movies[i.Id].Genres.Contains("Animation", StringComparison.Ordinal));
            Assert.True(animated >= 5, $"the new movie's nearest movies should be mostly animated: {string.Join(", ", neighbours.Items.Select(i => $"{i.Title} ({movies[i.Id].Genres})"))}");

            using var posted = await first.Http.PostAsync("/events", new StringContent("""{"userId":"1","itemId":"318","type":"like","eventId":"restart-check"}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.True(posted.IsSuccessStatusCode);
            revision = (await first.Cluster.Client.GetGrain<ICatalogueGrain>(0).GetSnapshot()).Revision;
            await first.StopAsync();
        }

        await using var second = new Fixture(options with { ReadyTimeout = TimeSpan.FromSeconds(30) });
        await second.StartAsync();
        var snapshot = await second.Cluster.Client.GetGrain<ICatalogueGrain>(0).GetSnapshot();
        Assert.True(snapshot.Seeded);
        Assert.Equal(revision, snapshot.Revision);
        var kept = await second.GetJsonAsync<HistoryReply>("/users/1/history");
        Assert.Equal(ratingsOfUser1 + 1, kept.TotalCount);
        Assert.Contains(kept.Events, e => e.EventId == "restart-check" && e.ItemId == "318");
        Assert.Equal(10, (await second.GetJsonAsync<RecommendationsReply>("/users/1/recommendations?k=10")).Items.Count);
        Assert.True((await second.GetJsonAsync<TextItemReply>($"/items/{NewMovie}")).Recommendable, "the new movie stays recommendable after the restart");
        Assert.Equal("text", (await second.GetJsonAsync<TextItemReply>($"/items/{unrated[0]}")).VectorSource);
        Directory.Delete(directory, recursive: true);
    }

    private const string DemoModel = "sasrec-idtext-ml-latest-small-d64";
    private const string NewMovie = "toy-box-rescue";

    /// <summary>Top-k movie ids for a demo user straight from the bundled package through ONNX Runtime: last 200 ratings in, dot products over every unseen movie.</summary>
    private static string[] ExpectedTop(int k, string user)
    {
        var package = ModelPackage.Load(Path.Combine(AppContext.BaseDirectory, "Demo", "model"));
        var manifest = package.Manifest;
        var history = Hosting.Demo.MovieLensCatalogue.Load(Path.Combine(AppContext.BaseDirectory, "Demo", "ml-latest-small")).Histories[user].Select(e => e.ItemId).ToArray();
        var dense = manifest.ItemIds.Select((id, i) => (id, i + 1)).ToDictionary(p => p.id, p => p.Item2, StringComparer.Ordinal);
        using var encoder = new OnnxEncoder(package, new OnnxThreading(1, false));
        var vector = encoder.Encode([history.TakeLast(200).Select(id => dense[id]).ToArray()]);
        var seen = history.ToHashSet(StringComparer.Ordinal);
        return manifest.ItemIds
            .Select((id, i) => (Id: id, Score: System.Numerics.Tensors.TensorPrimitives.Dot(vector, package.ItemEmbeddings.AsSpan(i * manifest.Dimension, manifest.Dimension))))
            .Where(x => !seen.Contains(x.Id))
            .OrderByDescending(x => x.Score)
            .Take(k)
            .Select(x => x.Id)
            .ToArray();
    }

    private sealed class Fixture(ClusterFixtureOptions options) : ClusterFixture(options), IAsyncDisposable
    {
        async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
    }
}
