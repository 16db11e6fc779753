using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Recommender.Cluster.Tests.Api;
using Recommender.Cluster.Tests.Infrastructure;

namespace Recommender.Cluster.Tests.Serving;

public static class ServingChecks
{
    /// <summary>Rows a version's shards and placements keep in the database of a node whose data directory this is.</summary>
    public static long StoredRows(string dataDirectory, string version) => Count(dataDirectory,
        "SELECT count(*) FROM RecommenderGrainRows WHERE substr(Owner, 1, length(@Shard)) = @Shard OR substr(Owner, 1, length(@Added)) = @Added",
        ("@Shard", $"shard/{version}/"), ("@Added", $"catalogue/added/{version}/"));

    /// <summary>The grain-state records of the version's shards in the node's SQLite file.</summary>
    public static long StoredShardStates(string dataDirectory, string version) => Count(dataDirectory,
        "SELECT count(*) FROM OrleansStorage WHERE GrainTypeString = 'shard' AND substr(GrainIdExtensionString, 1, length(@Prefix)) = @Prefix",
        ("@Prefix", $"{version}/"));

    private static long Count(string dataDirectory, string sql, params (string Name, string Value)[] parameters)
    {
        using var connection = new SqliteConnection($"Data Source={Directory.GetFiles(dataDirectory, "*.db").Single()}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>
    /// Each of <paramref name="queries"/> on <paramref name="path"/> is a 400 whose problem names <paramref name="parameter"/>
    /// alone; so is <paramref name="sessionQuery"/> on a session's list, its message containing <paramref name="sessionMessage"/>;
    /// and <paramref name="colonQuery"/> (a name holding a colon, the value after the last one) is answered.
    /// </summary>
    public static async Task EachIsAProblemNaming(HttpClient http, string path, string parameter, IEnumerable<string> queries, string sessionQuery,
        string sessionMessage, string colonQuery)
    {
        foreach (var query in queries)
        {
            using var response = await http.GetAsync($"{path}?{query}");
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
            var problem = (await response.Content.ReadFromJsonAsync<ProblemReply>())!;
            Assert.True(problem.Errors!.Keys.SequenceEqual([parameter]), $"{query}: {string.Join(", ", problem.Errors.Keys)}");
        }
        using var session = await http.PostAsJsonAsync($"/recommendations?{sessionQuery}", new { items = new[] { "1" } });
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, session.StatusCode);
        Assert.Contains(sessionMessage, (await session.Content.ReadFromJsonAsync<ProblemReply>())!.Errors![parameter][0]);
        using var colon = await http.GetAsync($"{path}?{colonQuery}");
        Assert.Equal(System.Net.HttpStatusCode.OK, colon.StatusCode);
    }

    /// <summary>The list of an anonymous session of <paramref name="items"/> under <paramref name="query"/>.</summary>
    public static async Task<List<RecommendedItemReply>> SessionList(HttpClient http, string[] items, string query)
    {
        using var response = await http.PostAsJsonAsync($"/recommendations?{query}", new { items });
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<SessionRecommendationsReply>())!.Items;
    }

    private static readonly DateTimeOffset Start = DateTimeOffset.UtcNow;
    private static int _tick;

    /// <summary>A distinct timestamp just before now for every call, so events keep their order and count as recent.</summary>
    public static DateTimeOffset Now() => Start.AddMilliseconds(Interlocked.Increment(ref _tick));

    /// <summary>
    /// Waits until <paramref name="user"/> is served by <paramref name="version"/>, then for the catalogue cache's
    /// lifetime: a silo that read the old pointer just before the change has read the new one by then, so every read
    /// that follows, on any silo, is served by the version (the next test's included).
    /// </summary>
    public static async Task<RecommendationsReply> WaitForVersion(ClusterFixture cluster, string user, string version)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var reply = await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=5");
            if (reply.ModelVersion == version)
            {
                await Task.Delay(CatalogueCacheTtl(cluster) + TimeSpan.FromMilliseconds(50));
                return reply;
            }
            if (DateTime.UtcNow > deadline) Assert.Fail($"Recommendations still come from '{reply.ModelVersion}', not '{version}'.");
            await Task.Delay(50);
        }
    }

    public static TimeSpan CatalogueCacheTtl(ClusterFixture cluster) =>
        cluster.Options.Settings.TryGetValue("Recommender:CatalogueCacheTtl", out var ttl) && ttl is not null
            ? TimeSpan.Parse(ttl, System.Globalization.CultureInfo.InvariantCulture)
            : new Recommender.Grains.ServingOptions().CatalogueCacheTtl;

    /// <summary>
    /// Polls until <paramref name="holds"/>, for what the silos see a little after a write (each refreshes its catalogue
    /// copy every 200 ms in the test clusters; windows are checked every second), for at most <paramref name="within"/>
    /// (10 s unless given).
    /// </summary>
    public static async Task Eventually(Func<Task<bool>> holds, string what, TimeSpan? within = null)
    {
        var limit = within ?? TimeSpan.FromSeconds(10);
        var deadline = DateTime.UtcNow + limit;
        while (!await holds())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Not within {limit.TotalSeconds:0} s: {what}.");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Hides items a test wrote and waits until user 5's whole list no longer holds them, and a little longer: each silo
    /// refreshes its catalogue copy every 200 ms, and the next test's reads land on any silo.
    /// </summary>
    public static async Task HideAsync(ServingCluster cluster, IReadOnlyList<(string Id, string[] Tags)> items)
    {
        foreach (var (id, tags) in items)
            using (await cluster.Http.PutAsJsonAsync($"/items/{Uri.EscapeDataString(id)}", new { title = id, tags, hidden = true })) { }
        var ids = items.Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
        await Eventually(async () => !(await cluster.GetJsonAsync<RecommendationsReply>("/users/5/recommendations?k=1000&includeSeen=true")).Items.Any(i => ids.Contains(i.Id)),
            "the items a test wrote hidden");
        await Task.Delay(TimeSpan.FromMilliseconds(600));
    }

    /// <summary>
    /// Runs <paramref name="readAndCompare"/>, its reads and its assertions, until its assertions hold, at most 30 times,
    /// 100 ms apart. Each silo keeps its own copy of the live popular list, rebuilt every 200 ms from other tests' events,
    /// and reads land on any silo: the copies agree once each has rebuilt since the last change, so a comparison of
    /// lists that read it is taken again before a failure counts.
    /// </summary>
    public static async Task WhileTheLiveListSettles(Func<Task> readAndCompare)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await readAndCompare();
                return;
            }
            catch (Xunit.Sdk.XunitException) when (attempt < 30)
            {
                await Task.Delay(100);
            }
        }
    }

    public static async Task Post(HttpClient http, params object[] events)
    {
        using var response = await http.PostAsJsonAsync("/events", events);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }
}
