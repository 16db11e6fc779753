using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;
using Recommender.Model.Baselines;
using Recommender.Model.Data;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>The loop events → GET /events/export → a model trained on the export → POST /models → activate → recommend.</summary>
[Collection(ServingCollection.Name)]
public sealed class TrainingLoopTests(ServingCluster cluster)
{
    [Fact]
    public async Task The_exported_history_trains_a_package_that_is_registered_activated_and_served()
    {
        var user = "loop-" + Guid.NewGuid().ToString("N");
        await ServingChecks.Post(cluster.Http,
            new { userId = user, itemId = "10", type = "view", timestamp = ServingChecks.Now(), eventId = "loop,\"quoted\" id" },
            new { userId = user, itemId = "12", type = "purchase", timestamp = ServingChecks.Now() });

        var file = Path.Combine(cluster.DataDirectory, $"export-{Guid.NewGuid():N}.csv");
        using (var response = await cluster.Http.GetAsync("/events/export", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.True(response.IsSuccessStatusCode);
            Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
            await using var target = File.Create(file);
            await response.Content.CopyToAsync(target);
        }
        var lines = File.ReadAllLines(file);
        Assert.Equal(EventExportFormat.Header, lines[0]);
        Assert.Contains(lines, l => l.StartsWith($"{user},10,view,", StringComparison.Ordinal) && l.EndsWith(",\"loop,\"\"quoted\"\" id\",", StringComparison.Ordinal));
        // Every seeded rating is in the export (the seed's 60 users are in the user directory).
        var seededRatings = File.ReadLines(cluster.Ratings).Count() - 1;
        Assert.True(lines.Count(l => l.Contains(",rating,", StringComparison.Ordinal)) >= seededRatings);

        var data = InteractionLoader.Load(file, InteractionFormat.EventExport);
        Assert.Contains(user, data.UserIds!);
        var version = TestPackages.NewVersion("from-export");
        await TestPackages.UploadOk(cluster.Http, RecencyMeanModel.Build(data, version, 16, maxLength: 50));
        await TestPackages.Activate(cluster.Http, version);

        var reply = await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=5");
        Assert.Equal(version, reply.ModelVersion);
        Assert.Equal("model", reply.Source);
        Assert.Equal(5, reply.Items.Count);
        Assert.DoesNotContain(reply.Items, i => i.Id is "10" or "12");
        File.Delete(file);
    }
}
