using Microsoft.Data.Sqlite;
using Recommender.Hosting.Sql;

namespace Recommender.Cluster.Tests.Storage;

/// <summary>
/// The SQLite script against the Orleans ADO.NET grain-storage contract, executed the way the provider does: query
/// texts read from OrleansQuery, parameters bound by name, one NewGrainStateVersion row back from a write.
/// </summary>
public sealed class SqliteStorageContractTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "recommender-tests", Guid.NewGuid().ToString("N"));
    private readonly string _connectionString;

    public SqliteStorageContractTests()
    {
        _connectionString = $"Data Source={Path.Combine(_directory, "store.db")}";
        SqliteStorageSchema.EnsureCreated(_connectionString);
    }

    private sealed record GrainKey(int IdHash, long N0, long N1, int TypeHash, string Type, string? Extension, string ServiceId = "svc");

    private static readonly GrainKey User = new(11, 0, 0, 99, "UserGrain", "user-1");
    private static readonly GrainKey Catalogue = new(12, 0, 0, 98, "CatalogueGrain", null);

    private string Query(SqliteConnection connection, string key)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT QueryText FROM OrleansQuery WHERE QueryKey = @k";
        command.Parameters.AddWithValue("@k", key);
        return (string)command.ExecuteScalar()!;
    }

    private SqliteCommand Command(SqliteConnection connection, string queryKey, GrainKey grain, int? version = null, byte[]? payload = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = Query(connection, queryKey);
        // Names without a prefix, as Orleans adds them.
        command.Parameters.AddWithValue("GrainIdHash", grain.IdHash);
        command.Parameters.AddWithValue("GrainIdN0", grain.N0);
        command.Parameters.AddWithValue("GrainIdN1", grain.N1);
        command.Parameters.AddWithValue("GrainTypeHash", grain.TypeHash);
        command.Parameters.AddWithValue("GrainTypeString", grain.Type);
        command.Parameters.AddWithValue("GrainIdExtensionString", (object?)grain.Extension ?? DBNull.Value);
        command.Parameters.AddWithValue("ServiceId", grain.ServiceId);
        if (queryKey != "ReadFromStorageKey") command.Parameters.AddWithValue("GrainStateVersion", (object?)version ?? DBNull.Value);
        if (queryKey == "WriteToStorageKey") command.Parameters.AddWithValue("PayloadBinary", payload ?? []);
        return command;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    /// <summary>Every row of every result set, as the provider reads them.</summary>
    private static List<int?> NewVersions(SqliteCommand command)
    {
        var versions = new List<int?>();
        using var reader = command.ExecuteReader();
        do
            while (reader.Read())
            {
                var ordinal = reader.GetOrdinal("NewGrainStateVersion");
                versions.Add(reader.IsDBNull(ordinal) ? null : reader.GetInt32(ordinal));
            }
        while (reader.NextResult());
        return versions;
    }

    private int? Write(GrainKey grain, int? version, byte[] payload)
    {
        using var connection = Open();
        using var command = Command(connection, "WriteToStorageKey", grain, version, payload);
        var rows = NewVersions(command);
        Assert.Single(rows);
        return rows[0];
    }

    private (byte[]? Payload, int Version)? Read(GrainKey grain)
    {
        using var connection = Open();
        using var command = Command(connection, "ReadFromStorageKey", grain);
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return null;
        var payload = reader.IsDBNull(reader.GetOrdinal("PayloadBinary")) ? null : (byte[])reader["PayloadBinary"];
        var result = (payload, reader.GetInt32(reader.GetOrdinal("Version")));
        Assert.False(reader.Read());
        return result;
    }

    private void AssertStored(GrainKey grain, byte[]? payload, int version)
    {
        var stored = Read(grain);
        Assert.NotNull(stored);
        Assert.Equal(payload, stored.Value.Payload);
        Assert.Equal(version, stored.Value.Version);
    }

    [Fact]
    public void The_script_is_applied_once_and_sets_write_ahead_logging()
    {
        SqliteStorageSchema.EnsureCreated(_connectionString);
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", (string)command.ExecuteScalar()!);
        command.CommandText = "SELECT count(*) FROM OrleansQuery;";
        Assert.Equal(3L, (long)command.ExecuteScalar()!);
    }

    [Fact]
    public void First_write_inserts_version_1_and_reads_return_it()
    {
        Assert.Null(Read(User));
        Assert.Equal(1, Write(User, null, [1, 2, 3]));
        AssertStored(User, [1, 2, 3], 1);
    }

    [Fact]
    public void A_write_with_the_stored_version_bumps_it_and_a_stale_one_changes_nothing()
    {
        Write(User, null, [1]);
        Assert.Equal(2, Write(User, 1, [2]));
        Assert.Equal(3, Write(User, 2, [3]));
        Assert.Null(Write(User, 2, [9]));
        Assert.Null(Write(User, 1, [9]));
        AssertStored(User, [3], 3);
    }

    [Fact]
    public void A_second_first_write_is_a_conflict_not_a_second_row()
    {
        Write(User, null, [1]);
        Assert.Null(Write(User, null, [2]));
        AssertStored(User, [1], 1);
    }

    [Fact]
    public void A_versioned_write_for_a_missing_row_is_a_conflict()
    {
        Assert.Null(Write(User, 4, [1]));
        Assert.Null(Read(User));
    }

    [Fact]
    public void Integer_keyed_grains_without_extension_work_and_stay_apart_from_others()
    {
        Assert.Equal(1, Write(Catalogue, null, [7]));
        Assert.Equal(2, Write(Catalogue, 1, [8]));
        Assert.Null(Write(Catalogue, null, [9]));
        Assert.Equal(1, Write(User, null, [1]));
        Assert.Equal(1, Write(User with { ServiceId = "other" }, null, [2]));
        AssertStored(Catalogue, [8], 2);
        AssertStored(User with { ServiceId = "other" }, [2], 1);
    }

    [Fact]
    public void The_unique_key_refuses_a_duplicate_row_for_one_grain()
    {
        Write(Catalogue, null, [1]);
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO OrleansStorage (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
            SELECT GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version FROM OrleansStorage;
            """;
        var error = Assert.Throws<SqliteException>(() => command.ExecuteNonQuery());
        Assert.Equal(19, error.SqliteErrorCode); // SQLITE_CONSTRAINT
    }

    [Fact]
    public void Clear_removes_the_payload_bumps_the_version_and_checks_it()
    {
        Write(User, null, [1]);
        using (var connection = Open())
        {
            using var stale = Command(connection, "ClearStorageKey", User, version: 7);
            Assert.True(stale.ExecuteScalar() is DBNull);
            using var clear = Command(connection, "ClearStorageKey", User, version: 1);
            Assert.Equal(2L, clear.ExecuteScalar());
        }
        AssertStored(User, null, 2);
        Assert.Equal(3, Write(User, 2, [5]));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
