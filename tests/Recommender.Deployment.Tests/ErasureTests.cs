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
    public async Task Erasing_a_user_leaves_no_events_in_postgres_and_the_history_stays_empty_after_the_silos_restart()
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

        // Every silo restarted: the history is read back from PostgreSQL, not from a live activation.
        foreach (var index in ClusterFixture.BaselineSilos)
        {
            await Cluster.Silos[index].StopAsync(TimeSpan.FromSeconds(30));
        }
        await fixture.RestoreBaselineAsync();
        var history = await Cluster.Http.GetFromJsonAsync<History>(new Uri(api, $"/users/{user}/history"));
        Assert.Equal(0, history!.TotalCount);
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
