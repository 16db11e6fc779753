using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Recommender.Abstractions;
using Recommender.Hosting;
using Recommender.Hosting.Sql;

namespace Recommender.Cluster.Tests.Storage;

/// <summary>The bulk-item table on SQLite: one row per item, replaced in place, kept apart per service, added to files of earlier releases.</summary>
public sealed class BulkItemStoreTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "recommender-tests", Guid.NewGuid().ToString("N"));
    private readonly string _connectionString;
    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer().BuildServiceProvider();

    public BulkItemStoreTests()
    {
        _connectionString = $"Data Source={Path.Combine(_directory, "store.db")}";
        SqliteStorageSchema.EnsureCreated(_connectionString);
    }

    private AdoNetBulkItemStore Store(string serviceId = "svc") => new(
        Options.Create(new RecommenderOptions { Storage = new StorageOptions { ConnectionString = _connectionString } }),
        Options.Create(new ClusterOptions { ServiceId = serviceId }),
        _services.GetRequiredService<Serializer>());

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

    [Fact]
    public void A_file_from_a_release_before_the_table_gets_it_at_start_up()
    {
        Execute("DROP TABLE RecommenderBulkItems;");
        Assert.Equal(0L, Scalar("SELECT count(*) FROM sqlite_master WHERE name = 'RecommenderBulkItems'"));
        SqliteStorageSchema.EnsureCreated(_connectionString);
        Assert.Equal(1L, Scalar("SELECT count(*) FROM sqlite_master WHERE name = 'RecommenderBulkItems'"));
        Assert.Equal(3L, Scalar("SELECT count(*) FROM OrleansQuery"));
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
