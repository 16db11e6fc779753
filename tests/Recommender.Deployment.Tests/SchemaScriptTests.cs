using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Serialization;
using Recommender.Abstractions;
using Recommender.Hosting;
using Recommender.Hosting.Sql;

namespace Recommender.Deployment.Tests;

/// <summary>The PostgreSQL scripts under deploy/postgres: idempotent, complete, and honouring the provider's contract.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SchemaScriptTests(PostgresFixture postgres)
{
    private static readonly string[] MembershipKeys =
    [
        "InsertMembershipVersionKey", "InsertMembershipKey", "UpdateMembershipKey", "UpdateIAmAlivetimeKey",
        "MembershipReadRowKey", "MembershipReadAllKey", "GatewaysQueryKey", "DeleteMembershipTableEntriesKey",
        "CleanupDefunctSiloEntriesKey", "CleanupDefunctSiloEntryKey",
    ];

    private static readonly string[] StorageKeys = ["ReadFromStorageKey", "WriteToStorageKey", "ClearStorageKey"];

    [Fact]
    public async Task Scripts_apply_twice_and_register_every_query_key()
    {
        var database = "schema_twice";
        await postgres.Server.CreateDatabaseAsync(database);
        for (var run = 0; run < 2; run++)
        {
            await postgres.Server.ExecuteScriptAsync(database, RepositoryPaths.Deploy("postgres", "clustering.sql"));
            await postgres.Server.ExecuteScriptAsync(database, RepositoryPaths.Deploy("postgres", "persistence.sql"));
        }

        var keys = await Strings(database, "SELECT QueryKey FROM OrleansQuery");
        Assert.Equal(MembershipKeys.Concat(StorageKeys).Order(), keys.Order());
        var columnTypes = await Strings(database,
            "SELECT table_name || '.' || column_name || ':' || data_type FROM information_schema.columns " +
            "WHERE column_name IN ('starttime', 'iamalivetime')");
        Assert.All(columnTypes, type => Assert.EndsWith(":timestamp with time zone", type));
        Assert.Equal(2, columnTypes.Count);
    }

    [Fact]
    public async Task The_kubernetes_schema_job_turns_the_npgsql_connection_string_into_psql_settings_and_applies_the_scripts()
    {
        var database = "schema_job";
        await postgres.Server.CreateDatabaseAsync(database);
        var job = new YamlDotNet.RepresentationModel.YamlStream();
        using (var reader = new StreamReader(RepositoryPaths.Deploy("kubernetes", "20-schema-job.yaml")))
            job.Load(reader);
        var container = (YamlDotNet.RepresentationModel.YamlMappingNode)((YamlDotNet.RepresentationModel.YamlSequenceNode)
            job.Documents[0].RootNode["spec"]["template"]["spec"]["containers"]).Single();
        var command = ((YamlDotNet.RepresentationModel.YamlSequenceNode)container["command"]).Select(c => c.ToString()).ToList();
        Assert.Equal(["sh", "-c"], command[..2]);
        // The job mounts the scripts at /schema; here they are read from the repository.
        var script = command[2].Replace("/schema/", RepositoryPaths.Deploy("postgres") + "/", StringComparison.Ordinal);

        // Spaced key names, a password with a space and quotes, and settings psql does not know, as a managed
        // PostgreSQL's connection string has them (the test server trusts local connections, so any password works).
        var connectionString = postgres.Server.ConnectionString(database)
            + ";Password=it's a \"secret\"\\;SSL Mode=Disable;Command Timeout=10;Trust Server Certificate=true";
        var start = new System.Diagnostics.ProcessStartInfo("sh", ["-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["CONNECTION_STRING"] = connectionString;
        start.Environment["PATH"] = postgres.Server.BinDirectory + ":" + Environment.GetEnvironmentVariable("PATH");
        using var process = System.Diagnostics.Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"the job's script failed ({process.ExitCode}): {await error}");

        var keys = await Strings(database, "SELECT QueryKey FROM OrleansQuery");
        Assert.Equal(MembershipKeys.Concat(StorageKeys).Order(), keys.Order());
    }

    [Fact]
    public async Task Storage_writes_follow_optimistic_versioning_and_keep_one_row_per_grain()
    {
        var connectionString = await postgres.Server.CreateClusterDatabaseAsync("schema_storage");
        var write = await Query(connectionString, "WriteToStorageKey");
        var read = await Query(connectionString, "ReadFromStorageKey");
        var clear = await Query(connectionString, "ClearStorageKey");

        Assert.Equal(1, await Versioned(connectionString, write, version: null, payload: [1]));
        // A second "first write" of the same grain (a duplicate activation) must not succeed or add a row.
        Assert.Null(await Versioned(connectionString, write, version: null, payload: [2]));
        Assert.Equal(2, await Versioned(connectionString, write, version: 1, payload: [3]));
        // A stale version is refused and changes nothing.
        Assert.Null(await Versioned(connectionString, write, version: 1, payload: [4]));
        var (payload, version) = await ReadState(connectionString, read);
        Assert.Equal([3], payload);
        Assert.Equal(2, version);

        Assert.Equal(3, await Versioned(connectionString, clear, version: 2, payload: null));
        (payload, version) = await ReadState(connectionString, read);
        Assert.Null(payload);
        Assert.Equal(3, version);
        Assert.Equal(4, await Versioned(connectionString, write, version: 3, payload: [5]));

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM OrleansStorage", connection);
        Assert.Equal(1L, await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Bulk_items_get_one_row_each_replaced_in_place_with_exact_import_times()
    {
        var connectionString = await postgres.Server.CreateClusterDatabaseAsync("schema_bulk_items", times: 2);
        await using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        AdoNetBulkItemStore Store(string serviceId) => new(
            Options.Create(new RecommenderOptions { Storage = new StorageOptions { Invariant = "Npgsql", ConnectionString = connectionString } }),
            Options.Create(new ClusterOptions { ServiceId = serviceId }), services.GetRequiredService<Serializer>());
        static BulkItem Item(string id, string title, DateTimeOffset at, byte[]? embedding = null) =>
            new(new ItemDetails(id, title, null, ["tag"], embedding, [1, 2, 3, 4]), at);
        var store = Store("svc");
        // PostgreSQL timestamps hold microseconds; the ticks are kept exactly.
        var at = new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero).AddTicks(1234567);

        await store.UpsertAsync(3, [.. Enumerable.Range(0, 700).Select(i => Item($"item-{i}", $"Title {i}", at)), Item("é-ü", "Accents", at, [7, 7, 7, 7])]);
        await store.UpsertAsync(3, [Item("item-5", "Title 5 again", at.AddSeconds(1))]);
        await Store("other").UpsertAsync(3, [Item("item-5", "Another service's", at)]);

        var found = await store.FindAsync([.. Enumerable.Range(0, 700).Select(i => $"item-{i}"), "é-ü", "absent"]);
        Assert.Equal(701, found.Count);
        Assert.Equal(at, found["item-6"].ImportedAt);
        Assert.Equal(("Title 5 again", at.AddSeconds(1)), (found["item-5"].Details.Title, found["item-5"].ImportedAt));
        Assert.Equal([7, 7, 7, 7], found["é-ü"].Details.Embedding);
        Assert.Equal([1, 2, 3, 4], found["item-6"].Details.TextVector);
        Assert.Equal(701, (await store.IdsInBucketAsync(3)).Count);
        Assert.Empty(await store.IdsInBucketAsync(4));
        Assert.Equal("Another service's", (await Store("other").FindAsync(["item-5"]))["item-5"].Details.Title);
    }

    [Fact]
    public async Task Grain_rows_keep_the_order_their_keys_were_first_written_across_statements_rewrites_replacements_and_deletions()
    {
        var connectionString = await postgres.Server.CreateClusterDatabaseAsync("schema_grain_rows", times: 2);
        await using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        AdoNetGrainRowStore Store(string serviceId) => new(
            Options.Create(new RecommenderOptions { Storage = new StorageOptions { Invariant = "Npgsql", ConnectionString = connectionString } }),
            Options.Create(new ClusterOptions { ServiceId = serviceId }), services.GetRequiredService<Serializer>());
        static KeyValuePair<string, ShardEntry> Entry(string id, string title) => KeyValuePair.Create(id, new ShardEntry(id, title, [1, 2, 3, 4]));
        var store = Store("svc");
        // More rows than one statement takes, in an order that is not the keys' order.
        var many = Enumerable.Range(0, 700).Select(i => Entry($"item-{699 - i}", $"Title {i}")).Append(Entry("é-ü", "Accents")).ToArray();
        await store.WriteAsync("shard/v1/0-of-2", many);
        // A key given twice in one write (PostgreSQL refuses to update a row twice in one statement) and a rewrite.
        await store.WriteAsync("shard/v1/0-of-2", [Entry("item-5", "Title 5 again"), Entry("new", "New"), Entry("item-5", "Title 5 last")]);
        await Store("other").WriteAsync("shard/v1/0-of-2", [Entry("item-5", "Another service's")]);

        var read = await store.ReadAsync<ShardEntry>("shard/v1/0-of-2");
        Assert.Equal(many.Select(e => e.Key).Append("new"), read.Select(r => r.Key));
        Assert.Equal("Title 5 last", read.Single(r => r.Key == "item-5").Value.Title);
        Assert.Equal([1, 2, 3, 4], read.Single(r => r.Key == "é-ü").Value.Vector);
        Assert.Equal(["Another service's"], (await Store("other").ReadAsync<ShardEntry>("shard/v1/0-of-2")).Select(r => r.Value.Title));

        await store.WriteAsync("shard/v1/0-of-2", [Entry("b", "B"), Entry("a", "A")], replaceAll: true);
        Assert.Equal(["b", "a"], (await store.ReadAsync<ShardEntry>("shard/v1/0-of-2")).Select(r => r.Key));
        Assert.Single(await Store("other").ReadAsync<ShardEntry>("shard/v1/0-of-2"));

        // Deleting keys (more than one statement takes, one twice, one absent) removes only this owner's and service's.
        await store.WriteAsync("journal/0", many);
        await store.DeleteAsync("journal/0", [.. many.Skip(1).Select(e => e.Key), "item-3", "absent"]);
        Assert.Equal(["item-699"], (await store.ReadAsync<ShardEntry>("journal/0")).Select(r => r.Key));
        Assert.Equal(["b", "a"], (await store.ReadAsync<ShardEntry>("shard/v1/0-of-2")).Select(r => r.Key));
        Assert.Single(await Store("other").ReadAsync<ShardEntry>("shard/v1/0-of-2"));

        // Deleting a version's shards by prefix: every count of them, no other version's ('_' is no wildcard), no other service's.
        await store.WriteAsync("shard/v1/0-of-1", [Entry("c", "C")]);
        await store.WriteAsync("shard/v10/0-of-1", [Entry("c", "C")]);
        await store.WriteAsync("shard/vx/0-of-1", [Entry("c", "C")]);
        Assert.Equal(3, await store.DeleteOwnersAsync("shard/v1/"));
        Assert.Empty(await store.ReadAsync<ShardEntry>("shard/v1/0-of-2"));
        Assert.Empty(await store.ReadAsync<ShardEntry>("shard/v1/0-of-1"));
        Assert.Single(await store.ReadAsync<ShardEntry>("shard/v10/0-of-1"));
        Assert.Single(await Store("other").ReadAsync<ShardEntry>("shard/v1/0-of-2"));
        await store.WriteAsync("shard/vax/0-of-1", [Entry("c", "C")]);
        Assert.Equal(0, await store.DeleteOwnersAsync("shard/v_x/"));
        Assert.Single(await store.ReadAsync<ShardEntry>("shard/vax/0-of-1"));
        Assert.Single(await store.ReadAsync<ShardEntry>("shard/vx/0-of-1"));
    }

    [Fact]
    public async Task A_deleted_versions_shard_states_go_whatever_their_count_and_no_others()
    {
        var connectionString = await postgres.Server.CreateClusterDatabaseAsync("schema_shard_states");
        var write = await Query(connectionString, "WriteToStorageKey");
        // Written as the provider writes them: a version's shards under two counts, a version whose name the first's
        // prefixes, one that '_' would match as a wildcard, another grain type and another service.
        (string Type, string Key, string Service)[] states =
        [
            ("shard", "v_1/0-of-2", "svc"), ("shard", "v_1/1-of-2", "svc"), ("shard", "v_1/0-of-1", "svc"),
            ("shard", "v_10/0-of-1", "svc"), ("shard", "vx1/0-of-1", "svc"), ("item", "v_1/0-of-2", "svc"), ("shard", "v_1/0-of-2", "other"),
        ];
        foreach (var (type, key, service) in states)
            Assert.Equal(1, await Versioned(connectionString, write, version: null, payload: [1], type, key, service));
        AdoNetStoredShards Shards(string serviceId) => new(
            Options.Create(new RecommenderOptions { Storage = new StorageOptions { Invariant = "Npgsql", ConnectionString = connectionString } }),
            Options.Create(new ClusterOptions { ServiceId = serviceId }));

        Assert.Equal(3, await Shards("svc").DeleteStatesAsync("v_1"));
        Assert.Equal(0, await Shards("svc").DeleteStatesAsync("v_1"));
        await Assert.ThrowsAsync<ArgumentException>(() => Shards("svc").DeleteStatesAsync(""));
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT GrainTypeString || ' ' || GrainIdExtensionString || ' ' || ServiceId FROM OrleansStorage", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var left = new List<string>();
        while (await reader.ReadAsync()) left.Add(reader.GetString(0));
        Assert.Equal(["item v_1/0-of-2 svc", "shard v_1/0-of-2 other", "shard v_10/0-of-1 svc", "shard vx1/0-of-1 svc"], left.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Membership_writes_bump_the_version_only_when_the_caller_saw_the_current_one()
    {
        var connectionString = await postgres.Server.CreateClusterDatabaseAsync("schema_membership");
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();

        Assert.True(await Flag(connection, await Query(connectionString, "InsertMembershipVersionKey"), Cluster()));
        Assert.False(await Flag(connection, await Query(connectionString, "InsertMembershipVersionKey"), Cluster()));

        var insert = await Query(connectionString, "InsertMembershipKey");
        Assert.True(await Flag(connection, insert, Member(port: 11111, version: 0)));
        Assert.False(await Flag(connection, insert, Member(port: 11112, version: 0)));
        Assert.False(await Flag(connection, insert, Member(port: 11111, version: 1)));
        Assert.True(await Flag(connection, insert, Member(port: 11112, version: 1)));

        var update = await Query(connectionString, "UpdateMembershipKey");
        Assert.True(await Flag(connection, update, [.. Member(port: 11111, version: 2), P("SuspectTimes", (object)DBNull.Value)]));
        Assert.False(await Flag(connection, update, [.. Member(port: 11111, version: 2), P("SuspectTimes", (object)DBNull.Value)]));

        await using var readAll = new NpgsqlCommand(await Query(connectionString, "MembershipReadAllKey"), connection);
        readAll.Parameters.AddRange(Cluster());
        await using var reader = await readAll.ExecuteReaderAsync();
        var rows = 0;
        while (await reader.ReadAsync())
        {
            rows++;
            Assert.Equal(3, reader.GetInt32(reader.GetOrdinal("Version")));
            Assert.Equal(DateTimeKind.Utc, reader.GetDateTime(reader.GetOrdinal("IAmAliveTime")).Kind);
        }
        Assert.Equal(2, rows);
    }

    private static NpgsqlParameter P(string name, object value) => new(name, value);

    private static NpgsqlParameter[] Cluster() => [P("DeploymentId", "schema-test")];

    private static NpgsqlParameter[] Member(int port, int version) =>
    [
        .. Cluster(), P("Address", "127.0.0.1"), P("Port", port), P("Generation", 7), P("SiloName", "s" + port),
        P("HostName", "localhost"), P("Status", 3), P("ProxyPort", port + 1000),
        P("StartTime", DateTime.UtcNow), P("IAmAliveTime", DateTime.UtcNow), P("Version", version),
    ];

    private static async Task<bool> Flag(NpgsqlConnection connection, string sql, NpgsqlParameter[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddRange(parameters);
        return Convert.ToBoolean(await command.ExecuteScalarAsync());
    }

    private static NpgsqlParameter[] Grain(string type = "counter", string key = "user-1", string service = "svc") =>
    [
        P("GrainIdHash", key.GetHashCode(StringComparison.Ordinal)), P("GrainIdN0", 0L), P("GrainIdN1", 0L), P("GrainTypeHash", type.Length),
        P("GrainTypeString", type), P("GrainIdExtensionString", key), P("ServiceId", service),
    ];

    private static async Task<int?> Versioned(string connectionString, string sql, int? version, byte[]? payload,
        string type = "counter", string key = "user-1", string service = "svc")
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddRange(Grain(type, key, service));
        command.Parameters.Add(new NpgsqlParameter("GrainStateVersion", System.Data.DbType.Int32) { Value = (object?)version ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("PayloadBinary", System.Data.DbType.Binary) { Value = (object?)payload ?? DBNull.Value });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), "write/clear must return exactly one row");
        int? result = reader.IsDBNull(0) ? null : reader.GetInt32(0);
        Assert.False(await reader.ReadAsync(), "write/clear must return exactly one row");
        return result;
    }

    private static async Task<(byte[]? Payload, int Version)> ReadState(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddRange(Grain());
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var payload = reader.IsDBNull(reader.GetOrdinal("PayloadBinary")) ? null : (byte[])reader["PayloadBinary"];
        return (payload, reader.GetInt32(reader.GetOrdinal("Version")));
    }

    private static async Task<string> Query(string connectionString, string key)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT QueryText FROM OrleansQuery WHERE QueryKey = @key", connection);
        command.Parameters.AddWithValue("key", key);
        return (string?)await command.ExecuteScalarAsync() ?? throw new InvalidOperationException($"Query {key} missing.");
    }

    private async Task<List<string>> Strings(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(postgres.Server.ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(0));
        }
        return values;
    }
}
