using System.Data.Common;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Recommender.Abstractions;
using Recommender.Grains.Items;

namespace Recommender.Hosting.Sql;

/// <summary>
/// Bulk-loaded items in the table RecommenderBulkItems beside the grain-storage table (SQLite or PostgreSQL, same
/// columns and statements): one row per item of this service, its details in the Orleans binary format.
/// </summary>
public sealed class AdoNetBulkItemStore(IOptions<RecommenderOptions> options, IOptions<ClusterOptions> cluster, Serializer serializer) : IBulkItemStore
{
    // Well under SQLite's and PostgreSQL's limits on parameters per statement.
    private const int LookupChunk = 500;

    private const string Upsert = """
        INSERT INTO RecommenderBulkItems (ServiceId, ItemId, Bucket, Payload, ImportedAt)
        VALUES (@ServiceId, @ItemId, @Bucket, @Payload, @ImportedAt)
        ON CONFLICT (ServiceId, ItemId) DO UPDATE SET Bucket = excluded.Bucket, Payload = excluded.Payload, ImportedAt = excluded.ImportedAt
        """;

    public async Task<IReadOnlyList<string>> IdsInBucketAsync(int bucket, CancellationToken cancellation = default)
    {
        await using var connection = await OpenAsync(cancellation);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT ItemId FROM RecommenderBulkItems WHERE ServiceId = @ServiceId AND Bucket = @Bucket";
        command.AddParameter("ServiceId", cluster.Value.ServiceId);
        command.AddParameter("Bucket", bucket);
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation)) ids.Add(reader.GetString(0));
        return ids;
    }

    public async Task<IReadOnlyDictionary<string, BulkItem>> FindAsync(IReadOnlyCollection<string> itemIds, CancellationToken cancellation = default)
    {
        var found = new Dictionary<string, BulkItem>(StringComparer.Ordinal);
        if (itemIds.Count == 0) return found;
        await using var connection = await OpenAsync(cancellation);
        foreach (var chunk in itemIds.Distinct(StringComparer.Ordinal).Chunk(LookupChunk))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT ItemId, Payload, ImportedAt FROM RecommenderBulkItems WHERE ServiceId = @ServiceId AND ItemId IN ("
                + string.Join(", ", chunk.Select((_, i) => $"@Id{i}")) + ")";
            command.AddParameter("ServiceId", cluster.Value.ServiceId);
            for (var i = 0; i < chunk.Length; i++) command.AddParameter($"Id{i}", chunk[i]);
            await using var reader = await command.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                var details = serializer.Deserialize<ItemDetails>((byte[])reader.GetValue(1))
                    ?? throw new InvalidDataException($"The stored row of bulk item '{reader.GetString(0)}' holds no details.");
                found[reader.GetString(0)] = new BulkItem(details, new DateTimeOffset(reader.GetInt64(2), TimeSpan.Zero));
            }
        }
        return found;
    }

    public Task UpsertAsync(int bucket, IReadOnlyList<BulkItem> items, CancellationToken cancellation = default) =>
        items.Count == 0 ? Task.CompletedTask : AdoNetConnections.WriteAsync(options.Value, connection => WriteAsync(connection, bucket, items, cancellation), cancellation);

    private async Task WriteAsync(DbConnection connection, int bucket, IReadOnlyList<BulkItem> items, CancellationToken cancellation)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = Upsert;
        command.AddParameter("ServiceId", cluster.Value.ServiceId);
        command.AddParameter("Bucket", bucket);
        var itemId = command.AddParameter("ItemId", "");
        var payload = command.AddParameter("Payload", Array.Empty<byte>());
        var importedAt = command.AddParameter("ImportedAt", 0L);
        foreach (var item in items)
        {
            itemId.Value = item.Details.Id;
            payload.Value = serializer.SerializeToArray(item.Details);
            importedAt.Value = item.ImportedAt.UtcTicks;
            await command.ExecuteNonQueryAsync(cancellation);
        }
        await transaction.CommitAsync(cancellation);
    }

    public Task DeleteAsync(IReadOnlyList<string> itemIds, CancellationToken cancellation = default) =>
        itemIds.Count == 0 ? Task.CompletedTask : AdoNetConnections.WriteAsync(options.Value, connection => DeleteAsync(connection, itemIds, cancellation), cancellation);

    private async Task DeleteAsync(DbConnection connection, IReadOnlyList<string> itemIds, CancellationToken cancellation)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "DELETE FROM RecommenderBulkItems WHERE ServiceId = @ServiceId AND ItemId = @ItemId";
        command.AddParameter("ServiceId", cluster.Value.ServiceId);
        var itemId = command.AddParameter("ItemId", "");
        foreach (var id in itemIds.Distinct(StringComparer.Ordinal))
        {
            itemId.Value = id;
            await command.ExecuteNonQueryAsync(cancellation);
        }
        await transaction.CommitAsync(cancellation);
    }

    private Task<DbConnection> OpenAsync(CancellationToken cancellation) => AdoNetConnections.OpenAsync(options.Value, cancellation);
}
