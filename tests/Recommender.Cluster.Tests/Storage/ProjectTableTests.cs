using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Recommender.Abstractions;
using Recommender.Hosting;
using Recommender.Hosting.Sql;

namespace Recommender.Cluster.Tests.Storage;

/// <summary>
/// The project's own tables on SQLite, bulk items and grain rows: one row per item, replaced in place, kept apart per
/// service, written whole or not at all, added to files of earlier releases.
/// </summary>
public sealed class ProjectTableTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "recommender-tests", Guid.NewGuid().ToString("N"));
    private readonly string _connectionString;
    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer().BuildServiceProvider();

    public ProjectTableTests()
    {
        _connectionString = $"Data Source={Path.Combine(_directory, "store.db")}";
        SqliteStorageSchema.EnsureCreated(_connectionString);
    }

    private AdoNetBulkItemStore Store(string serviceId = "svc") => new(
        Options.Create(new RecommenderOptions { Storage = new StorageOptions { ConnectionString = _connectionString } }),
        Options.Create(new ClusterOptions { ServiceId = serviceId }),
        _services.GetRequiredService<Serializer>());

    private AdoNetGrainRowStore Rows(string serviceId = "svc") => new(
        Options.Create(new RecommenderOptions { Storage = new StorageOptions { ConnectionString = _connectionString } }),
        Options.Create(new ClusterOptions { ServiceId = serviceId }),
        _services.GetRequiredService<Serializer>());

    private static KeyValuePair<string, ShardEntry> Entry(string id, string title, byte[]? vector = null) => KeyValuePair.Create(id, new ShardEntry(id, title, vector, ["tag"]));

    private static BulkItem Item(string id, string title, DateTimeOffset at, byte[]? embedding = null) =>
        new(new ItemDetails(id, title, "text of " + id, ["tag-a", "tag-b"], embedding, [1, 2, 3, 4], Hidden: id.EndsWith('h')), at);

    [Fact]
    public async Task Items_come_back_as_written_with_their_exact_import_time_and_a_rewrite_replaces_one_row()
    {
        var store = Store();
        // Ticks that a microsecond clock would round: kept exactly, so a PUT in the same microsecond still orders.
        var at = new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero).AddTicks(1234567);
        await store.UpsertAsync(3, [Item("a", "A", at, [9, 9, 9, 9]), Item("bh", "B", at)]);
        await store.UpsertAsync(5, [Item("c", "C", at)]);

        var found = await store.FindAsync(["a", "bh", "missing"]);
        Assert.Equal(["a", "bh"], found.Keys.Order());
        Assert.Equal(at, found["a"].ImportedAt);
        Assert.Equal(Item("a", "A", at).Details.Tags, found["a"].Details.Tags);
        Assert.Equal([9, 9, 9, 9], found["a"].Details.Embedding);
        Assert.Equal([1, 2, 3, 4], found["a"].Details.TextVector);
        Assert.True(found["bh"].Details.Hidden);
        Assert.Null(found["bh"].Details.Embedding);

        await store.UpsertAsync(3, [Item("a", "A again", at.AddSeconds(1))]);
        var again = (await store.FindAsync(["a"]))["a"];
        Assert.Equal("A again", again.Details.Title);
        Assert.Equal(at.AddSeconds(1), again.ImportedAt);
        Assert.Null(again.Details.Embedding);
        Assert.Equal(["a", "bh"], (await store.IdsInBucketAsync(3)).Order());
        Assert.Equal(["c"], await store.IdsInBucketAsync(5));
        Assert.Empty(await store.IdsInBucketAsync(4));
        Assert.Equal(3L, Scalar("SELECT count(*) FROM RecommenderBulkItems"));
    }

    [Fact]
    public async Task Lookups_of_more_ids_than_one_statement_takes_find_them_all()
    {
        var store = Store();
        var at = DateTimeOffset.UtcNow;
        var items = Enumerable.Range(0, 1200).Select(i => Item($"item-{i}", $"Title {i}", at)).ToArray();
        await store.UpsertAsync(0, items);
        var asked = items.Select(i => i.Details.Id).Append("absent").Append("item-7").ToArray();
        var found = await store.FindAsync(asked);
        Assert.Equal(1200, found.Count);
        Assert.Equal("Title 1199", found["item-1199"].Details.Title);
    }

    [Fact]
    public async Task Services_sharing_a_database_do_not_see_each_others_items()
    {
        var at = DateTimeOffset.UtcNow;
        await Store("one").UpsertAsync(1, [Item("x", "from one", at)]);
        await Store("two").UpsertAsync(1, [Item("x", "from two", at)]);
        Assert.Equal("from one", (await Store("one").FindAsync(["x"]))["x"].Details.Title);
        Assert.Equal("from two", (await Store("two").FindAsync(["x"]))["x"].Details.Title);
        Assert.Empty(await Store("three").FindAsync(["x"]));
        Assert.Empty(await Store("three").IdsInBucketAsync(1));
    }

    [Fact]
    public async Task A_batch_that_fails_part_way_stores_none_of_its_items()
    {
        var store = Store();
        var at = DateTimeOffset.UtcNow;
        await store.UpsertAsync(2, [Item("kept", "Kept", at)]);
        // A trigger stands in for a failure on the second row (a full disk, a lost connection).
        Execute("CREATE TRIGGER fail_second BEFORE INSERT ON RecommenderBulkItems WHEN NEW.ItemId = 'second' BEGIN SELECT RAISE(ABORT, 'refused'); END;");
        await Assert.ThrowsAsync<SqliteException>(() => store.UpsertAsync(2, [Item("first", "F", at), Item("second", "S", at), Item("kept", "Changed", at)]));
        Assert.Equal(["kept"], await store.IdsInBucketAsync(2));
        Assert.Equal("Kept", (await store.FindAsync(["kept"]))["kept"].Details.Title);
    }

    [Theory]
    [InlineData("RecommenderBulkItems")]
    [InlineData("RecommenderGrainRows")]
    public void A_file_from_a_release_before_the_table_gets_it_at_start_up(string table)
    {
        Execute($"DROP TABLE {table};");
        Assert.Equal(0L, Scalar($"SELECT count(*) FROM sqlite_master WHERE name = '{table}'"));
        SqliteStorageSchema.EnsureCreated(_connectionString);
        Assert.Equal(1L, Scalar($"SELECT count(*) FROM sqlite_master WHERE name = '{table}'"));
        Assert.Equal(3L, Scalar("SELECT count(*) FROM OrleansQuery"));
    }

    [Fact]
    public async Task Grain_rows_come_back_in_the_order_their_keys_were_first_written_and_a_rewrite_keeps_its_place()
    {
        var rows = Rows();
        await rows.WriteAsync("shard/a", [Entry("c", "C"), Entry("a", "A", [1, 2, 3, 4]), Entry("b", "B")]);
        await rows.WriteAsync("shard/b", [Entry("a", "Another owner's")]);
        // A rewrite keeps its place; a key given twice in one write is written once, with its last value, at its first place.
        await rows.WriteAsync("shard/a", [Entry("a", "A again"), Entry("d", "D"), Entry("e", "E"), Entry("d", "D again")]);

        var read = await rows.ReadAsync<ShardEntry>("shard/a");
        Assert.Equal(["c", "a", "b", "d", "e"], read.Select(r => r.Key));
        Assert.Equal(["C", "A again", "B", "D again", "E"], read.Select(r => r.Value.Title));
        Assert.Null(read[1].Value.Vector);
        Assert.Equal(["tag"], read[0].Value.Tags);
        Assert.Equal(["Another owner's"], (await rows.ReadAsync<ShardEntry>("shard/b")).Select(r => r.Value.Title));
        Assert.Empty(await Rows("other").ReadAsync<ShardEntry>("shard/a"));
        Assert.Empty(await rows.ReadAsync<ShardEntry>("shard/c"));

        // Replacing all: the owner's other rows go, and the new ones come in the order given.
        await rows.WriteAsync("shard/a", [Entry("e", "E"), Entry("z", "Z")], replaceAll: true);
        Assert.Equal(["e", "z"], (await rows.ReadAsync<ShardEntry>("shard/a")).Select(r => r.Key));
        await rows.WriteAsync<ShardEntry>("shard/a", [], replaceAll: true);
        Assert.Empty(await rows.ReadAsync<ShardEntry>("shard/a"));
        Assert.Single(await rows.ReadAsync<ShardEntry>("shard/b"));
    }

    [Fact]
    public async Task Grain_rows_of_more_than_one_statement_keep_their_order_and_a_failed_write_changes_nothing()
    {
        var rows = Rows();
        var many = Enumerable.Range(0, 1050).Select(i => Entry($"item-{1049 - i}", $"Title {i}")).ToArray();
        await rows.WriteAsync("catalogue/added", many);
        Assert.Equal(many.Select(e => e.Key), (await rows.ReadAsync<ShardEntry>("catalogue/added")).Select(r => r.Key));

        // A trigger stands in for a failure part way (a full disk, a lost connection): nothing of the write is kept,
        // not even the deletions of a replacement.
        Execute("CREATE TRIGGER fail_one BEFORE INSERT ON RecommenderGrainRows WHEN NEW.RowKey = 'refused' BEGIN SELECT RAISE(ABORT, 'refused'); END;");
        await Assert.ThrowsAsync<SqliteException>(() => rows.WriteAsync("catalogue/added", [.. many.Take(150), Entry("refused", "R")], replaceAll: true));
        await Assert.ThrowsAsync<SqliteException>(() => rows.WriteAsync("catalogue/added", [Entry("item-3", "Changed"), Entry("refused", "R")]));
        var kept = await rows.ReadAsync<ShardEntry>("catalogue/added");
        Assert.Equal(many.Select(e => e.Key), kept.Select(r => r.Key));
        Assert.Equal("Title 1046", kept.Single(r => r.Key == "item-3").Value.Title);
    }

    [Fact]
    public async Task Deleting_grain_rows_removes_only_the_keys_given_of_that_owner_and_service()
    {
        var rows = Rows();
        var many = Enumerable.Range(0, 250).Select(i => Entry($"row-{i}", $"Title {i}")).ToArray();
        await rows.WriteAsync("journal/0", many);
        await rows.WriteAsync("journal/1", [Entry("row-1", "Another owner's")]);
        await Rows("other").WriteAsync("journal/0", [Entry("row-1", "Another service's")]);

        // More keys than one statement takes, a key given twice and a key without a row.
        var doomed = Enumerable.Range(0, 240).Where(i => i != 7).Select(i => $"row-{i}").Append("row-3").Append("absent").ToArray();
        await rows.DeleteAsync("journal/0", doomed);
        Assert.Equal(["row-7", .. Enumerable.Range(240, 10).Select(i => $"row-{i}")], (await rows.ReadAsync<ShardEntry>("journal/0")).Select(r => r.Key));
        Assert.Single(await rows.ReadAsync<ShardEntry>("journal/1"));
        Assert.Single(await Rows("other").ReadAsync<ShardEntry>("journal/0"));
        await rows.DeleteAsync("journal/0", []);
        Assert.Equal(11, (await rows.ReadAsync<ShardEntry>("journal/0")).Count);
    }

    [Fact]
    public async Task Deleting_by_owner_prefix_removes_every_owner_so_named_and_no_other()
    {
        var rows = Rows();
        foreach (var owner in new[] { "shard/v_1/0-of-2", "shard/v_1/1-of-2", "shard/v_1/0-of-1", "shard/v_10/0-of-1", "shard/vx1/0-of-1", "shard/v_1", "catalogue/added/v_1/2" })
            await rows.WriteAsync(owner, [Entry("a", owner), Entry("b", owner)]);
        await Rows("other").WriteAsync("shard/v_1/0-of-2", [Entry("a", "Another service's")]);

        // '_' in a version is a character here, not a wildcard, and "v_1/" does not take "v_10/".
        Assert.Equal(6, await rows.DeleteOwnersAsync("shard/v_1/"));
        foreach (var gone in new[] { "shard/v_1/0-of-2", "shard/v_1/1-of-2", "shard/v_1/0-of-1" })
            Assert.Empty(await rows.ReadAsync<ShardEntry>(gone));
        foreach (var kept in new[] { "shard/v_10/0-of-1", "shard/vx1/0-of-1", "shard/v_1", "catalogue/added/v_1/2" })
            Assert.Equal(2, (await rows.ReadAsync<ShardEntry>(kept)).Count);
        Assert.Single(await Rows("other").ReadAsync<ShardEntry>("shard/v_1/0-of-2"));
        Assert.Equal(0, await rows.DeleteOwnersAsync("shard/v_1/"));
        await Assert.ThrowsAsync<ArgumentException>(() => rows.DeleteOwnersAsync(""));
        Assert.Equal(2, (await rows.ReadAsync<ShardEntry>("shard/v_10/0-of-1")).Count);
    }

    private void Execute(string sql)
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private long Scalar(string sql)
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    public void Dispose()
    {
        _services.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
