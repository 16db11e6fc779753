using System.Net;
using System.Net.Http.Json;
using Npgsql;

namespace Recommender.Deployment.Tests;

/// <summary>DELETE /users/{id} through the API front end of the multi-process cluster, checked in PostgreSQL itself.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ErasureTests(ClusterFixture fixture)
{
    private LocalCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Erasing_a_user_leaves_no_events_in_postgres_and_the_history_stays_empty_and_scenarios_stay_after_the_silos_restart()
    {
        await fixture.RestoreBaselineAsync();
        var api = Cluster.Api!.BaseAddress;
        var user = "erase-" + Guid.NewGuid().ToString("N");
        var at = DateTimeOffset.UtcNow.AddMinutes(-5);
        var events = fixture.Items.Take(4).Select((item, i) => new { userId = user, itemId = item, type = "view", timestamp = at.AddSeconds(i) }).ToArray();
        (await Cluster.Http.PostAsJsonAsync(new Uri(api, "/events"), events)).EnsureSuccessStatusCode();
        Assert.NotNull(await StoredPayload(user));

        using var erase = await Cluster.Http.DeleteAsync(new Uri(api, $"/users/{user}"));
        Assert.Equal(HttpStatusCode.OK, erase.StatusCode);
        Assert.Equal(4, (await erase.Content.ReadFromJsonAsync<Erased>())!.ErasedEvents);
        Assert.Null(await StoredPayload(user));

        var scenario = "kept-" + Guid.NewGuid().ToString("N");
        using (var put = await Cluster.Http.PutAsJsonAsync(new Uri(api, $"/scenarios/{scenario}"), new { capEach = new[] { "brand::2" }, diversity = 0.2 }))
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());

        // Every silo restarted: the history is read back from PostgreSQL, not from a live activation.
        foreach (var index in ClusterFixture.BaselineSilos)
        {
            await Cluster.Silos[index].StopAsync(TimeSpan.FromSeconds(30));
        }
        await fixture.RestoreBaselineAsync();
        var history = await Cluster.Http.GetFromJsonAsync<History>(new Uri(api, $"/users/{user}/history"));
        Assert.Equal(0, history!.TotalCount);
        using var kept = await Cluster.Http.GetAsync(new Uri(api, $"/scenarios/{scenario}"));
        Assert.True(kept.IsSuccessStatusCode, await kept.Content.ReadAsStringAsync());
        var rules = await kept.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.Equal(("brand::2", 0.2), (rules.GetProperty("capEach")[0].GetString(), Math.Round(rules.GetProperty("diversity").GetDouble(), 6)));
        // So is the scenarios' history, which holds its creation.
        var changes = (await Cluster.Http.GetFromJsonAsync<System.Text.Json.JsonElement>(new Uri(api, "/scenario-history?limit=50"))).GetProperty("changes");
        var created = changes.EnumerateArray().SelectMany(c => c.GetProperty("changes").EnumerateArray()).Single(c => c.GetProperty("name").GetString() == scenario);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, created.GetProperty("before").ValueKind);
        Assert.Equal("brand::2", created.GetProperty("after").GetProperty("capEach")[0].GetString());
    }

    /// <summary>The longest stored key: an id of 256 braces, each kept in the key as three characters.</summary>
    [Fact]
    public async Task The_longest_ids_the_api_accepts_are_stored_written_read_and_erased()
    {
        await fixture.RestoreBaselineAsync();
        var api = Cluster.Api!.BaseAddress;
        var user = new string('{', 256);
        var item = new string('}', 255) + Guid.NewGuid().ToString("N")[..1];
        var path = Uri.EscapeDataString(user);
        using (var post = await Cluster.Http.PostAsJsonAsync(new Uri(api, "/events"), new[] { new { userId = user, itemId = fixture.Items[0], type = "view" } }))
            Assert.True(post.IsSuccessStatusCode, await post.Content.ReadAsStringAsync());
        Assert.Equal(1, (await Cluster.Http.GetFromJsonAsync<History>(new Uri(api, $"/users/{path}/history")))!.TotalCount);
        using (var put = await Cluster.Http.PutAsJsonAsync(new Uri(api, $"/items/{Uri.EscapeDataString(item)}"), new { title = "Braces", hidden = true }))
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        using var erase = await Cluster.Http.DeleteAsync(new Uri(api, $"/users/{path}"));
        Assert.Equal(HttpStatusCode.OK, erase.StatusCode);
        Assert.Equal(1, (await erase.Content.ReadFromJsonAsync<Erased>())!.ErasedEvents);

        // Deleted, the item written by PUT and one written in a batch leave PostgreSQL: no grain state nor bulk row holds them.
        var bulk = "bulk-" + Guid.NewGuid().ToString("N");
        using (var post = await Cluster.Http.PostAsJsonAsync(new Uri(api, "/items"), new[] { new { id = bulk, title = "Bulk", hidden = true } }))
            Assert.True(post.IsSuccessStatusCode, await post.Content.ReadAsStringAsync());
        var export = await Cluster.Http.GetStringAsync(new Uri(api, "/catalogue/export"));
        Assert.Contains(System.Text.Json.JsonSerializer.Serialize(item), export);
        Assert.Equal(1, await BulkRows(bulk));
        using (var deleted = await Cluster.Http.DeleteAsync(new Uri(api, $"/items/{Uri.EscapeDataString(item)}")))
            Assert.True(deleted.IsSuccessStatusCode, await deleted.Content.ReadAsStringAsync());
        using (var batch = await Cluster.Http.PostAsJsonAsync(new Uri(api, "/items/delete"), new[] { bulk }))
            Assert.True(batch.IsSuccessStatusCode, await batch.Content.ReadAsStringAsync());
        Assert.Equal(0, await BulkRows(bulk));
        export = await Cluster.Http.GetStringAsync(new Uri(api, "/catalogue/export"));
        Assert.DoesNotContain(System.Text.Json.JsonSerializer.Serialize(item), export);
        Assert.DoesNotContain(bulk, export);
        using var gone = await Cluster.Http.GetAsync(new Uri(api, $"/items/{Uri.EscapeDataString(item)}"));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    private async Task<long> BulkRows(string item)
    {
        await using var connection = new NpgsqlConnection(Cluster.TestConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM RecommenderBulkItems WHERE ItemId = @id", connection);
        command.Parameters.AddWithValue("id", item);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<byte[]?> StoredPayload(string user)
    {
        await using var connection = new NpgsqlConnection(Cluster.TestConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT PayloadBinary FROM OrleansStorage WHERE GrainTypeString = 'user' AND GrainIdExtensionString = @id", connection);
        command.Parameters.AddWithValue("id", user);
        var value = await command.ExecuteScalarAsync();
        Assert.NotNull(value);
        return value is DBNull ? null : (byte[])value;
    }

    private sealed record Erased(string UserId, long ErasedEvents);

    private sealed record History(string UserId, long TotalCount);
}
