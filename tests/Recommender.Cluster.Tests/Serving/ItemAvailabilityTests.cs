using System.Net;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;
using Recommender.Cluster.Tests.Infrastructure;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// An item written with <c>availableFrom</c> is placed at once but recommended only from then on; one written with
/// <c>expiresAt</c> is recommended until then and, from then on, left out of model answers and similar-item lists as a
/// hidden item is, while it stays in the catalogue; each write replaces the window.
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class ItemAvailabilityTests(ServingCluster cluster)
{
    /// <summary>How long a test waits for a window's time to come and be seen: the times are set some seconds ahead.</summary>
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private async Task<string[]> Ids(string path) => (await cluster.GetJsonAsync<RecommendationsReply>(path)).Items.Select(i => i.Id).ToArray();

    private async Task Put(string id, object body)
    {
        using var response = await cluster.Http.PutAsJsonAsync($"/items/{id}", body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private sealed record UsersReply(List<RecommendationsReply> Users);

    private async Task PostBatch(object[] items)
    {
        using var response = await cluster.Http.PostAsJsonAsync("/items", items);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_item_leaves_the_lists_when_its_expiry_passes_and_each_write_replaces_the_expiry()
    {
        var models = await cluster.GetJsonAsync<ModelsReply>("/models");
        var dimension = models.Models.Single(m => m.Version == models.Active).Dimension;
        var tag = $"expiring-{Guid.NewGuid():N}";
        var story = $"story-{tag}";
        var sibling = $"sibling-{tag}";
        var random = new Random(11);
        float[] Vector() => Enumerable.Range(0, dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var storyVector = Vector();
        var userList = $"/users/5/recommendations?k=5&tag={tag}";
        var similarList = $"/items/{sibling}/similar?k=5&tag={tag}";
        try
        {
            await Put(sibling, new { title = "Evergreen", tags = new[] { tag }, embedding = Vector() });
            // Far enough ahead that the writes and reads before it finish first on a busy machine.
            var expiresAt = DateTimeOffset.UtcNow.AddSeconds(8);
            await Put(story, new { title = "Breaking", tags = new[] { tag }, embedding = storyVector, expiresAt = expiresAt.ToString("O") });
            var fresh = await cluster.GetJsonAsync<ItemReply>($"/items/{story}");
            Assert.Equal(expiresAt, fresh.ExpiresAt);
            Assert.True(fresh.Available);
            Assert.True(fresh.Recommendable);
            Assert.Contains(story, await Ids(userList));
            Assert.Equal([story], await Ids(similarList));

            // Its time comes: it leaves both lists, stays in the catalogue, and the item beside it stays listed.
            await ServingChecks.Eventually(async () => !(await Ids(userList)).Contains(story), "the expired item leaves the user's list", Wait);
            Assert.Equal([sibling], await Ids(userList));
            Assert.Empty(await Ids(similarList));
            Assert.True(DateTimeOffset.UtcNow >= expiresAt);
            var expired = await cluster.GetJsonAsync<ItemReply>($"/items/{story}");
            Assert.False(expired.Available);
            Assert.False(expired.Recommendable);
            Assert.StartsWith("Expired at", expired.Note);
            Assert.NotNull(expired.Placement);
            // Pinned, it leaves its place to the ranking, and the answer says since when.
            Assert.Equal([new(story, 1, "unavailable", ExpiredAt: expiresAt)], (await cluster.GetJsonAsync<RecommendationsReply>($"{userList}&pin={story}:1")).UnplacedPins!);
            Assert.Equal([new(story, 2, "unavailable", ExpiredAt: expiresAt)], (await cluster.GetJsonAsync<SimilarReply>($"{similarList}&pin={story}:2")).UnplacedPins!);

            // Written again without an expiry, it is back.
            await Put(story, new { title = "Breaking", tags = new[] { tag } });
            Assert.Null((await cluster.GetJsonAsync<ItemReply>($"/items/{story}")).ExpiresAt);
            await ServingChecks.Eventually(async () => (await Ids(userList)).Contains(story), "the item written without an expiry is listed again");

            // A batch with an expiry already passed (Unix seconds) leaves it out at once; one with a later expiry shows it.
            await PostBatch([new { id = story, title = "Breaking", tags = new[] { tag }, expiresAt = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds() }]);
            Assert.False((await cluster.GetJsonAsync<ItemReply>($"/items/{story}")).Available);
            await ServingChecks.Eventually(async () => !(await Ids(userList)).Contains(story), "an item written with a passed expiry leaves the list");
            await PostBatch([new { id = story, title = "Breaking", tags = new[] { tag }, expiresAt = DateTimeOffset.UtcNow.AddDays(7) }]);
            Assert.True((await cluster.GetJsonAsync<ItemReply>($"/items/{story}")).Available);
            await ServingChecks.Eventually(async () => (await Ids(similarList)).SequenceEqual([story]), "an item given a later expiry is listed again");
        }
        finally
        {
            await Put(story, new { title = "Breaking", tags = new[] { tag }, hidden = true });
            await Put(sibling, new { title = "Evergreen", tags = new[] { tag }, hidden = true });
        }
    }

    [Fact]
    public async Task An_item_written_ahead_of_its_window_is_placed_at_once_listed_when_it_opens_and_gone_when_it_closes()
    {
        var models = await cluster.GetJsonAsync<ModelsReply>("/models");
        var dimension = models.Models.Single(m => m.Version == models.Active).Dimension;
        var tag = $"window-{Guid.NewGuid():N}";
        var release = $"release-{tag}";
        var random = new Random(12);
        var embedding = Enumerable.Range(0, dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var userList = $"/users/5/recommendations?k=5&tag={tag}";
        try
        {
            var (opens, closes) = (DateTimeOffset.UtcNow.AddSeconds(10), DateTimeOffset.UtcNow.AddSeconds(16));
            await PostBatch([new { id = release, title = "Premiere", tags = new[] { tag }, embedding, availableFrom = opens, expiresAt = closes.ToUnixTimeSeconds() + 1 }]);
            var early = await cluster.GetJsonAsync<ItemReply>($"/items/{release}");
            Assert.Equal(opens, early.AvailableFrom);
            Assert.False(early.Available);
            Assert.False(early.Recommendable);
            Assert.NotNull(early.Placement);
            Assert.StartsWith("Available from", early.Note);
            Assert.Empty(await Ids(userList));
            // Pinned, it leaves its place to the ranking, and the answer says until when (once per item in a batch of users).
            Assert.Equal([new(release, 1, "unavailable", AvailableFrom: opens)], (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=5&pin={release}:1")).UnplacedPins!);
            using (var many = await cluster.Http.PostAsJsonAsync($"/users/recommendations?k=5&pin={release}:2", new { users = new[] { "5", "6" } }))
            {
                Assert.True(many.IsSuccessStatusCode, await many.Content.ReadAsStringAsync());
                Assert.All((await many.Content.ReadFromJsonAsync<UsersReply>())!.Users,
                    list => Assert.Equal([new(release, 2, "unavailable", AvailableFrom: opens)], list.UnplacedPins!));
            }

            await ServingChecks.Eventually(async () => (await Ids(userList)).SequenceEqual([release]), "the item is listed once its window opens", Wait);
            Assert.True(DateTimeOffset.UtcNow >= opens);
            Assert.True((await cluster.GetJsonAsync<ItemReply>($"/items/{release}")).Recommendable);
            await ServingChecks.Eventually(async () => (await Ids(userList)).Length == 0, "the item leaves the list once its window closes", Wait);
            Assert.True(DateTimeOffset.UtcNow >= closes);
        }
        finally
        {
            await Put(release, new { title = "Premiere", tags = new[] { tag }, hidden = true });
        }
    }

    [Fact]
    public async Task An_expired_item_gets_no_row_in_a_version_not_trained_on_it_stays_out_under_one_trained_on_it_and_comes_back_with_a_later_expiry()
    {
        var models = await cluster.GetJsonAsync<ModelsReply>("/models");
        var before = models.Active!;
        var dimension = models.Models.Single(m => m.Version == before).Dimension;
        var tag = $"expired-{Guid.NewGuid():N}";
        var story = $"story-{tag}";
        var random = new Random(13);
        var embedding = Enumerable.Range(0, dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var userList = $"/users/5/recommendations?k=5&tag={tag}";
        try
        {
            await Put(story, new { title = "Last week", tags = new[] { tag }, embedding, expiresAt = DateTimeOffset.UtcNow.AddSeconds(6) });
            Assert.Equal([story], await Ids(userList));
            await ServingChecks.Eventually(async () => (await Ids(userList)).Length == 0, "the item leaves the list when it expires", Wait);

            var version = TestPackages.NewVersion("expired");
            await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, version, dimension));
            await TestPackages.Activate(cluster.Http, version);
            await ServingChecks.WaitForVersion(cluster, "5", version);
            var retired = await cluster.GetJsonAsync<ItemReply>($"/items/{story}");
            Assert.Null(retired.Placement);
            Assert.False(retired.Available);
            Assert.Empty(await Ids(userList));

            // The hidden set changes meanwhile (another item hidden), so that it is worked out again under this version.
            await Put($"other-{tag}", new { title = "Other", tags = new[] { $"other-{tag}" }, hidden = true });

            // A version trained on it gives it a row again, and it stays out while expired.
            var trained = TestPackages.NewVersion("trained");
            await TestPackages.UploadOk(cluster.Http, TestPackages.Transformer([.. Enumerable.Range(1, SmallCatalogue.Movies).Select(i => i.ToString()), story], trained));
            await TestPackages.Activate(cluster.Http, trained);
            await ServingChecks.WaitForVersion(cluster, "5", trained);
            for (var read = 0; read < 10; read++, await Task.Delay(100)) Assert.Empty(await Ids(userList));

            // Written again with a later expiry, it is listed.
            await Put(story, new { title = "Last week", tags = new[] { tag }, expiresAt = DateTimeOffset.UtcNow.AddDays(1) });
            Assert.Equal(trained, (await cluster.GetJsonAsync<ItemReply>($"/items/{story}")).Placement?.ModelVersion);
            await ServingChecks.Eventually(async () => (await Ids(userList)).SequenceEqual([story]), "the item given a later expiry is listed again");
        }
        finally
        {
            await TestPackages.Activate(cluster.Http, before);
            await Put(story, new { title = "Last week", tags = new[] { tag }, hidden = true });
        }
        await ServingChecks.WaitForVersion(cluster, "5", before);
    }

    [Fact]
    public async Task A_window_that_ends_before_it_begins_is_refused_naming_expires_at()
    {
        var id = "window-" + Guid.NewGuid().ToString("N");
        using var put = await cluster.Http.PutAsJsonAsync($"/items/{id}", new { title = "T", availableFrom = "2026-12-10T00:00:00Z", expiresAt = "2026-12-10T00:00:00Z" });
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Equal(["'expiresAt' 2026-12-10T00:00:00.0000000+00:00 must be later than 'availableFrom' 2026-12-10T00:00:00.0000000+00:00."],
            (await put.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!["expiresAt"]);
        using var bad = await cluster.Http.PutAsJsonAsync($"/items/{id}", new { title = "T", availableFrom = "soon" });
        Assert.Equal(["'availableFrom' must be an ISO-8601 date-time or Unix seconds."], (await bad.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!["availableFrom"]);
        Assert.Equal(HttpStatusCode.NotFound, (await cluster.Http.GetAsync($"/items/{id}")).StatusCode);
    }

    [Theory]
    [InlineData("\"next week\"")]
    [InlineData("true")]
    [InlineData("1e30")]
    [InlineData("\"2026-13-01T00:00:00Z\"")]
    public async Task A_bad_expiry_is_refused_naming_the_field_and_nothing_is_written(string value)
    {
        var id = "expiry-" + Guid.NewGuid().ToString("N");
        using var put = await cluster.Http.PutAsync($"/items/{id}",
            new StringContent($$"""{"title":"T","expiresAt":{{value}}}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Equal(["'expiresAt' must be an ISO-8601 date-time or Unix seconds."], (await put.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!["expiresAt"]);
        using var batch = await cluster.Http.PostAsync("/items",
            new StringContent($$"""[{"id":"{{id}}","title":"T","expiresAt":{{value}}}]""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, batch.StatusCode);
        Assert.Contains((await batch.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!.Keys, key => key.EndsWith("expiresAt", StringComparison.Ordinal) && key.Contains("[0]"));
        Assert.Equal(HttpStatusCode.NotFound, (await cluster.Http.GetAsync($"/items/{id}")).StatusCode);
    }
}
