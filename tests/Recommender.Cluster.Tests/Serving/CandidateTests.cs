using System.Net;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;
using Recommender.Grains.Ranking;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// A candidate version served beside the active one to a share of the users (POST and DELETE
/// /models/{version}/candidate): each user and each visitor's session on the side the draw gives, item writes reaching
/// its shards, and the candidate ended by a stop or an activation.
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class CandidateTests(ServingCluster cluster)
{
    private static readonly string[] Users = [.. Enumerable.Range(1, 40).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    private async Task<HttpResponseMessage> Start(string version, string query) => await cluster.Http.PostAsync($"/models/{version}/candidate{query}", null);

    private async Task<ProblemReply> Refused(HttpResponseMessage response, HttpStatusCode status)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"answered {(int)response.StatusCode}: {body}");
            return (await response.Content.ReadFromJsonAsync<ProblemReply>())!;
        }
    }

    /// <summary>Waits until every user (with a history the versions know) is served by the version <paramref name="expected"/> names.</summary>
    private async Task WaitForSides(Func<string, string> expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var wrong = new List<string>();
            foreach (var user in Users)
            {
                var reply = await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=3");
                Assert.Equal("model", reply.Source);
                if (reply.ModelVersion != expected(user)) wrong.Add($"{user}: {reply.ModelVersion}, not {expected(user)}");
            }
            if (wrong.Count == 0) return;
            if (DateTime.UtcNow > deadline) Assert.Fail(string.Join("; ", wrong));
            await Task.Delay(100);
        }
    }

    private async Task<SessionRecommendationsReply> Session(object body)
    {
        using var response = await cluster.Http.PostAsJsonAsync("/recommendations?k=3", body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<SessionRecommendationsReply>())!;
    }

    [Fact]
    public async Task A_candidate_serves_the_users_drawn_for_it_takes_item_writes_and_ends_with_a_stop_or_an_activation()
    {
        var served = (await cluster.GetJsonAsync<ModelsReply>("/models")).Active!;
        var dimension = (await cluster.GetJsonAsync<ModelsReply>("/models")).Models.Single(m => m.Version == served).Dimension;
        var candidate = TestPackages.NewVersion("candidate");
        var next = TestPackages.NewVersion("after-candidate");
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, candidate, dimension));
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, next, dimension));
        try
        {
            // Refused, nothing started: no share, one out of range or not a number, the active version, an unknown one.
            foreach (var query in new[] { "", "?share=0", "?share=1.5", "?share=-0.1", "?share=ten", "?share=NaN" })
                Assert.Contains("share", (await Refused(await Start(candidate, query), HttpStatusCode.BadRequest)).Errors!.Keys);
            Assert.Contains("is the active version", (await Refused(await Start(served, "?share=0.5"), HttpStatusCode.Conflict)).Errors!["version"][0]);
            Assert.Contains("not registered", (await Refused(await Start("no-such-version", "?share=0.5"), HttpStatusCode.NotFound)).Errors!["version"][0]);
            Assert.Contains("not the candidate", (await Refused(await cluster.Http.DeleteAsync($"/models/{candidate}/candidate"), HttpStatusCode.NotFound)).Errors!["version"][0]);
            Assert.Null((await cluster.GetJsonAsync<ModelsReply>("/models")).Candidate);

            using (var started = await Start(candidate, "?share=0.5"))
            {
                Assert.True(started.IsSuccessStatusCode, await started.Content.ReadAsStringAsync());
                var reply = (await started.Content.ReadFromJsonAsync<CandidateReply>())!;
                Assert.Equal((candidate, 0.5, served), (reply.Candidate, reply.Share, reply.Active));
            }
            var listed = await cluster.GetJsonAsync<ModelsReply>("/models");
            Assert.Equal((served, candidate, 0.5), (listed.Active, listed.Candidate, listed.CandidateShare));
            Assert.Equal("candidate", listed.Models.Single(m => m.Version == candidate).State);
            string Drawn(string user) => ServingModel.Draw(candidate, user) < 0.5 ? candidate : served;
            Assert.Contains(Users, u => Drawn(u) == candidate);
            Assert.Contains(Users, u => Drawn(u) == served);
            await WaitForSides(Drawn);
            Assert.Contains("share of the users", (await Refused(await cluster.Http.DeleteAsync($"/models/{candidate}"), HttpStatusCode.Conflict)).Errors!["version"][0]);

            // An anonymous session is on the side its visitor id is drawn for, and on the active version without one.
            var visitors = Enumerable.Range(0, 30).Select(i => $"visitor-{i}").ToArray();
            Assert.Contains(visitors, v => Drawn(v) == candidate);
            Assert.Contains(visitors, v => Drawn(v) == served);
            foreach (var visitor in visitors)
                Assert.Equal(Drawn(visitor), (await Session(new { items = new[] { "1", "2" }, visitorId = visitor })).ModelVersion);
            Assert.Equal(served, (await Session(new { items = new[] { "1", "2" } })).ModelVersion);
            using (var blank = await cluster.Http.PostAsJsonAsync("/recommendations?k=3", new { items = new[] { "1" }, visitorId = " " }))
                Assert.Contains("visitorId", (await Refused(blank, HttpStatusCode.BadRequest)).Errors!.Keys);

            // An item written now reaches the candidate's shards: once every user is on the candidate (the share changes,
            // nothing is rebuilt), a list filtered to its tag finds it there.
            var item = "candidate-item-" + Guid.NewGuid().ToString("N");
            var tag = "only-" + item;
            var embedding = Enumerable.Range(0, dimension).Select(i => (float)Math.Cos(i)).ToArray();
            using (var put = await cluster.Http.PutAsJsonAsync($"/items/{item}", new { title = "New on both sides", tags = new[] { tag }, embedding }))
                Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
            using (var raised = await Start(candidate, "?share=1"))
                Assert.True(raised.IsSuccessStatusCode, await raised.Content.ReadAsStringAsync());
            Assert.Equal(1.0, (await cluster.GetJsonAsync<ModelsReply>("/models")).CandidateShare);
            await WaitForSides(_ => candidate);
            var tagged = await cluster.GetJsonAsync<RecommendationsReply>($"/users/7/recommendations?k=3&tag={tag}");
            Assert.Equal(candidate, tagged.ModelVersion);
            Assert.Equal([item], tagged.Items.Select(i => i.Id));

            // Stopped: everyone is back on the active version, and the candidate drains as a retired version does.
            using (var stopped = await cluster.Http.DeleteAsync($"/models/{candidate}/candidate"))
                Assert.Equal(HttpStatusCode.NoContent, stopped.StatusCode);
            listed = await cluster.GetJsonAsync<ModelsReply>("/models");
            Assert.Null(listed.Candidate);
            Assert.Equal("retired", listed.Models.Single(m => m.Version == candidate).State);
            Assert.NotNull(listed.Models.Single(m => m.Version == candidate).RetiredAt);
            await WaitForSides(_ => served);

            // Started again, then ended by an activation: everyone is on the version activated.
            using (var again = await Start(candidate, "?share=0.5"))
                Assert.True(again.IsSuccessStatusCode, await again.Content.ReadAsStringAsync());
            await WaitForSides(Drawn);
            await TestPackages.Activate(cluster.Http, next);
            Assert.Null((await cluster.GetJsonAsync<ModelsReply>("/models")).Candidate);
            await WaitForSides(_ => next);
        }
        finally
        {
            using (await cluster.Http.DeleteAsync($"/models/{candidate}/candidate")) { }
            await TestPackages.Activate(cluster.Http, served);
            await ServingChecks.WaitForVersion(cluster, "3", served);
        }
    }
}
