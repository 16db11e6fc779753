using System.Data.Common;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Recommender.Grains;

namespace Recommender.Hosting.Sql;

/// <summary>
/// Grain rows in the table RecommenderGrainRows beside the grain-storage table (SQLite or PostgreSQL, same columns and
/// statements): one row per owner and key, its value in the Orleans binary format, ordered by an identity column that
/// an update leaves as it was.
/// </summary>
public sealed class AdoNetGrainRowStore(IOptions<RecommenderOptions> options, IOptions<ClusterOptions> cluster, Serializer serializer) : IGrainRowStore
{
    // Rows per INSERT statement: four parameters each, well under SQLite's and PostgreSQL's limits per statement.
    private const int RowsPerStatement = 100;

    public async Task<IReadOnlyList<KeyValuePair<string, T>>> ReadAsync<T>(string owner, CancellationToken cancellation = default)
    {
        await using var connection = await AdoNetConnections.OpenAsync(options.Value, cancellation);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT RowKey, Payload FROM RecommenderGrainRows WHERE ServiceId = @ServiceId AND Owner = @Owner ORDER BY Seq";
        command.AddParameter("ServiceId", cluster.Value.ServiceId);
        command.AddParameter("Owner", owner);
        var rows = new List<KeyValuePair<string, T>>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            var key = reader.GetString(0);
            var value = serializer.Deserialize<T>((byte[])reader.GetValue(1))
                ?? throw new InvalidDataException($"The stored row '{key}' of '{owner}' holds no value.");
            rows.Add(KeyValuePair.Create(key, value));
        }
        return rows;
    }

    public Task WriteAsync<T>(string owner, IReadOnlyList<KeyValuePair<string, T>> rows, bool replaceAll = false, CancellationToken cancellation = default)
    {
        if (rows.Count == 0 && !replaceAll) return Task.CompletedTask;
        // PostgreSQL refuses one statement that updates a row twice: a key given twice is written once, at its first place.
        var latest = new Dictionary<string, T>(StringComparer.Ordinal);
        var keys = new List<string>(rows.Count);
        foreach (var (key, value) in rows)
        {
            if (!latest.ContainsKey(key)) keys.Add(key);
            latest[key] = value;
        }
        var payloads = keys.Select(k => KeyValuePair.Create(k, serializer.SerializeToArray(latest[k]))).ToArray();
        return AdoNetConnections.WriteAsync(options.Value, connection => Write(connection, owner, payloads, replaceAll, cancellation), cancellation);
    }

    public Task DeleteAsync(string owner, IReadOnlyList<string> keys, CancellationToken cancellation = default)
    {
        if (keys.Count == 0) return Task.CompletedTask;
        var distinct = keys.Distinct(StringComparer.Ordinal).ToArray();
        return AdoNetConnections.WriteAsync(options.Value, connection => Delete(connection, owner, distinct, cancellation), cancellation);
    }

    public async Task<int> DeleteOwnersAsync(string ownerPrefix, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(ownerPrefix);
        var deleted = 0;
        await AdoNetConnections.WriteAsync(options.Value, async connection =>
        {
            await using var delete = connection.CreateCommand();
            // substr compares characters in both databases, where LIKE would read '_' in a version as a wildcard.
            delete.CommandText = "DELETE FROM RecommenderGrainRows WHERE ServiceId = @ServiceId AND substr(Owner, 1, @Length) = @Prefix";
            delete.AddParameter("ServiceId", cluster.Value.ServiceId);
            delete.AddParameter("Length", ownerPrefix.Length);
            delete.AddParameter("Prefix", ownerPrefix);
            deleted = await delete.ExecuteNonQueryAsync(cancellation);
        }, cancellation);
        return deleted;
    }

    private async Task Delete(DbConnection connection, string owner, string[] keys, CancellationToken cancellation)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        foreach (var chunk in keys.Chunk(RowsPerStatement))
        {
            await using var delete = connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM RecommenderGrainRows WHERE ServiceId = @ServiceId AND Owner = @Owner AND RowKey IN ("
                + string.Join(", ", chunk.Select((_, i) => $"@Key{i}")) + ")";
            delete.AddParameter("ServiceId", cluster.Value.ServiceId);
            delete.AddParameter("Owner", owner);
            for (var i = 0; i < chunk.Length; i++) delete.AddParameter($"Key{i}", chunk[i]);
            await delete.ExecuteNonQueryAsync(cancellation);
        }
        await transaction.CommitAsync(cancellation);
    }

    private async Task Write(DbConnection connection, string owner, KeyValuePair<string, byte[]>[] rows, bool replaceAll, CancellationToken cancellation)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        if (replaceAll)
        {
            await using var delete = connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM RecommenderGrainRows WHERE ServiceId = @ServiceId AND Owner = @Owner";
            delete.AddParameter("ServiceId", cluster.Value.ServiceId);
            delete.AddParameter("Owner", owner);
            await delete.ExecuteNonQueryAsync(cancellation);
        }
        foreach (var chunk in rows.Chunk(RowsPerStatement))
        {
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO RecommenderGrainRows (ServiceId, Owner, RowKey, Payload) VALUES "
                + string.Join(", ", chunk.Select((_, i) => $"(@ServiceId, @Owner, @Key{i}, @Payload{i})"))
                + " ON CONFLICT (ServiceId, Owner, RowKey) DO UPDATE SET Payload = excluded.Payload";
            insert.AddParameter("ServiceId", cluster.Value.ServiceId);
            insert.AddParameter("Owner", owner);
            for (var i = 0; i < chunk.Length; i++)
            {
                insert.AddParameter($"Key{i}", chunk[i].Key);
                insert.AddParameter($"Payload{i}", chunk[i].Value);
            }
            await insert.ExecuteNonQueryAsync(cancellation);
        }
        await transaction.CommitAsync(cancellation);
    }
}
