using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Recommender.Deployment.Tests;

/// <summary>
/// `recommender move-to-cluster`: a single node (the demo's 610 users, 9,742 movies and two model packages, then items
/// and events of its own, then killed) moved into a cluster of two silos and a front end on PostgreSQL, which answers every read as
/// the node did and goes on from there; a move the node, the database or an earlier move forbids writes nothing.
/// </summary>
public sealed class MoveToClusterTests
{
    private static readonly string[] Users = ["1", "2", "3", "610", "moved-user"];
    private static readonly string[] Items = ["moved-text", "moved-hidden", "moved-later", "moved-bulk-1", "1", "2571"];
    private static readonly string[] Tables = ["OrleansStorage", "RecommenderBulkItems", "RecommenderGrainRows"];

    [Fact]
    public async Task A_single_node_moved_into_a_cluster_answers_as_it_did_and_goes_on()
    {
        await using var cluster = await LocalCluster.StartDatabaseAsync("move-logs");
        var nodeData = Path.Combine(Path.GetTempPath(), "recommender-move-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var before = await RunNodeAsync(cluster, nodeData);
            var database = Path.Combine(nodeData, "recommender.db");

            // A database without the schema.
            await cluster.Postgres.CreateDatabaseAsync("bare");
            var (exit, _, error) = await MoveAsync(nodeData, cluster.Postgres.ConnectionString("bare"), cluster.DataDirectory);
            Assert.Equal(1, exit);
            Assert.Contains("has no OrleansStorage table: apply deploy/postgres/clustering.sql and deploy/postgres/persistence.sql", error);
            Assert.False(Directory.Exists(Path.Combine(cluster.DataDirectory, "models")));

            // A copy that fails part way (here the last table refuses a row): the transaction is rolled back and the
            // packages already placed are removed again.
            await cluster.Postgres.ExecuteAsync("cluster", "ALTER TABLE recommendergrainrows ADD CONSTRAINT refuse_moved CHECK (rowkey <> 'moved-text')");
            (exit, _, error) = await MoveAsync(nodeData, cluster.ConnectionString, cluster.DataDirectory);
            Assert.Equal(1, exit);
            Assert.Contains("refuse_moved", error);
            Assert.Contains("nothing was moved", error);
            Assert.Equal(new long[Tables.Length], await PostgresCountsAsync(cluster));
            Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(cluster.DataDirectory, "models")));
            await cluster.Postgres.ExecuteAsync("cluster", "ALTER TABLE recommendergrainrows DROP CONSTRAINT refuse_moved");

            (exit, var output, error) = await MoveAsync(nodeData, cluster.ConnectionString, cluster.DataDirectory);
            Assert.True(exit == 0, $"move-to-cluster exited with {exit}: {error}{output}");
            var nodeRows = await SqliteCountsAsync(database);
            Assert.Equal(nodeRows, await PostgresCountsAsync(cluster));
            Assert.True(nodeRows[0] > 610 && nodeRows[1] > 9_742 && nodeRows[2] > 9_742, $"rows: {string.Join(", ", nodeRows)}");
            Assert.Contains($"Moved {nodeRows[0]:N0} grain states, {nodeRows[1]:N0} bulk-loaded items and {nodeRows[2]:N0} grain rows", output);
            Assert.Contains("and 2 model package(s)", output);

            // Moved once: a second move is refused and changes nothing.
            (exit, _, error) = await MoveAsync(nodeData, cluster.ConnectionString, cluster.DataDirectory);
            Assert.Equal(1, exit);
            Assert.Contains("already holds data of service 'recommender'", error);
            Assert.Equal(nodeRows, await PostgresCountsAsync(cluster));

            cluster.StartSilo(1);
            await cluster.WaitSiloActiveAsync(1, 0, TimeSpan.FromSeconds(120));
            cluster.StartSilo(2);
            await cluster.WaitSiloActiveAsync(2, 0, TimeSpan.FromSeconds(120));
            var api = cluster.StartApi();
            await cluster.WaitReadyAsync(api, 120);

            // With silos running on it, the database takes no move (even one of another service, which would be empty).
            (exit, _, error) = await MoveAsync(nodeData, cluster.ConnectionString, cluster.DataDirectory, "--service-id", "another");
            Assert.Equal(1, exit);
            Assert.Contains("silo(s) are active on the cluster's database", error);

            var after = await ReadAllAsync(cluster.Http, api.BaseAddress);
            foreach (var (what, answer) in before)
            {
                Assert.True(after.TryGetValue(what, out var moved), $"{what} was not read from the cluster");
                Assert.True(answer == moved, $"{what}: the node answered\n{Cut(answer)}\nthe cluster answers\n{Cut(moved)}");
            }

            // The cluster goes on from the moved state: a new event follows the moved history, a new item is placed.
            var history = await cluster.Http.GetFromJsonAsync<History>(new Uri(api.BaseAddress, "/users/1/history?limit=1000"));
            using (var post = await cluster.Http.PostAsJsonAsync(new Uri(api.BaseAddress, "/events"), new { userId = "1", itemId = "moved-text", type = "view", eventId = "after-the-move" }))
                Assert.True(post.IsSuccessStatusCode, await post.Content.ReadAsStringAsync());
            var longer = await cluster.Http.GetFromJsonAsync<History>(new Uri(api.BaseAddress, "/users/1/history?limit=1000"));
            Assert.Equal(history!.TotalCount + 1, longer!.TotalCount);
            using (var put = await cluster.Http.PutAsJsonAsync(new Uri(api.BaseAddress, "/items/after-the-move"), new { title = "After the move", text = "Comedy" }))
                Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
            using var similar = await cluster.Http.GetAsync(new Uri(api.BaseAddress, "/items/after-the-move/similar?k=3"));
            Assert.Equal(HttpStatusCode.OK, similar.StatusCode);
        }
        finally
        {
            if (Directory.Exists(nodeData)) Directory.Delete(nodeData, recursive: true);
        }
    }

    /// <summary>The node: the demo, then writes of a shop's kinds; returns its answers, once it has been killed.</summary>
    private static async Task<Dictionary<string, string>> RunNodeAsync(LocalCluster cluster, string nodeData)
    {
        await using var node = NodeProcess.StartSingleNode("single", nodeData, cluster.LogDirectory, new Dictionary<string, string> { ["Recommender__SeedDemo"] = "true" });
        await node.WaitReadyAsync(cluster.ProbeHttp, TimeSpan.FromSeconds(180));
        var http = cluster.Http;
        var api = node.BaseAddress;
        var later = DateTimeOffset.UtcNow.AddDays(1);
        foreach (var (id, body) in new (string, object)[]
        {
            ("moved-text", new { title = "Moved by text", text = "Adventure|Sci-Fi", tags = new[] { "moved" } }),
            ("moved-hidden", new { title = "Moved and hidden", text = "Drama", hidden = true }),
            ("moved-later", new { title = "Moved, available tomorrow", text = "Comedy", availableFrom = later.ToUnixTimeSeconds() }),
        })
        {
            using var put = await http.PutAsJsonAsync(new Uri(api, $"/items/{id}"), body);
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        }
        using (var batch = await http.PostAsJsonAsync(new Uri(api, "/items"), new[] { new { id = "moved-bulk-1", title = "Bulk one" }, new { id = "moved-bulk-2", title = "Bulk two" } }))
            Assert.True(batch.IsSuccessStatusCode, await batch.Content.ReadAsStringAsync());
        var at = DateTimeOffset.UtcNow.AddMinutes(-10);
        using (var events = await http.PostAsJsonAsync(new Uri(api, "/events"), new object[]
        {
            new { userId = "moved-user", itemId = "moved-text", type = "view", timestamp = at, eventId = "m-1" },
            new { userId = "moved-user", itemId = "260", type = "click", timestamp = at.AddSeconds(1), eventId = "m-2" },
            new { userId = "moved-user", itemId = "moved-bulk-1", type = "purchase", timestamp = at.AddSeconds(2), eventId = "m-3" },
            new { userId = "3", itemId = "2571", type = "dismiss", eventId = "m-4" },
        }))
            Assert.True(events.IsSuccessStatusCode, await events.Content.ReadAsStringAsync());
        using (var erase = await http.DeleteAsync(new Uri(api, "/users/2")))
            Assert.Equal(HttpStatusCode.OK, erase.StatusCode);
        var answers = await ReadAllAsync(http, api);

        // While the node runs, the move is refused and writes nothing.
        var (exit, _, error) = await MoveAsync(nodeData, cluster.ConnectionString, cluster.DataDirectory);
        Assert.Equal(1, exit);
        Assert.Contains("A node is running on", error);
        Assert.Equal(new long[Tables.Length], await PostgresCountsAsync(cluster));
        Assert.False(Directory.Exists(Path.Combine(cluster.DataDirectory, "models")));

        // A crash rather than a stop: what the node acknowledged last may still be in SQLite's write-ahead log only.
        await node.KillAsync();
        Assert.True(File.Exists(Path.Combine(nodeData, "recommender.db-wal")), "the killed node should leave its write-ahead log behind");
        return answers;
    }

    /// <summary>Every read a client makes, as text; a user's lists reduced to items and scores (whether the silo had the vector cached differs).</summary>
    private static async Task<Dictionary<string, string>> ReadAllAsync(HttpClient http, Uri api)
    {
        var answers = new Dictionary<string, string>();
        async Task<string> Read(string path)
        {
            using var response = await http.GetAsync(new Uri(api, path));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} answered {(int)response.StatusCode}: {body}");
            return body;
        }
        foreach (var user in Users)
        {
            answers[$"history of {user}"] = await Read($"/users/{user}/history?limit=1000");
            using var list = JsonDocument.Parse(await Read($"/users/{user}/recommendations?k=20"));
            answers[$"list of {user}"] = string.Join("\n", list.RootElement.GetProperty("items").EnumerateArray()
                .Select(i => $"{i.GetProperty("id").GetString()} {i.GetProperty("score").GetDouble():F9}"))
                + $"\nsource {list.RootElement.GetProperty("source").GetString()}, model {list.RootElement.GetProperty("modelVersion").GetString()}";
        }
        foreach (var item in Items) answers[$"item {item}"] = await Read($"/items/{item}");
        answers["similar to 1"] = await Read("/items/1/similar?k=10");
        answers["similar to moved-text"] = await Read("/items/moved-text/similar?k=10");
        answers["models"] = await Read("/models");
        return answers;
    }

    private static async Task<(int Exit, string Output, string Error)> MoveAsync(string nodeData, string connectionString, string clusterData, params string[] more)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])[RepositoryPaths.ProjectOutput("Recommender.Cli", "recommender"), "move-to-cluster",
                     "--data-directory", nodeData, "--cluster-data-directory", clusterData, .. more])
            start.ArgumentList.Add(argument);
        // As an operator would: the password-bearing string in the environment, not in the process list.
        start.Environment["Recommender__Storage__ConnectionString"] = connectionString;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }

    private static async Task<long[]> SqliteCountsAsync(string database)
    {
        await using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        var counts = new long[Tables.Length];
        for (var i = 0; i < Tables.Length; i++)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT COUNT(*) FROM {Tables[i]}";
            counts[i] = (long)(await command.ExecuteScalarAsync())!;
        }
        return counts;
    }

    private static async Task<long[]> PostgresCountsAsync(LocalCluster cluster)
    {
        await using var connection = new NpgsqlConnection(cluster.TestConnectionString);
        await connection.OpenAsync();
        var counts = new long[Tables.Length];
        for (var i = 0; i < Tables.Length; i++)
        {
            await using var command = new NpgsqlCommand($"SELECT COUNT(*) FROM {Tables[i].ToLowerInvariant()}", connection);
            counts[i] = (long)(await command.ExecuteScalarAsync())!;
        }
        return counts;
    }

    private static string Cut(string text) => text.Length <= 600 ? text : text[..600] + $"… ({text.Length:N0} characters)";

    private sealed record History(long TotalCount);
}
