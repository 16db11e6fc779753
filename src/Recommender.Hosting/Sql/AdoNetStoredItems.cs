using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Recommender.Grains;
using Recommender.Grains.Items;

namespace Recommender.Hosting.Sql;

/// <summary>
/// The items in the ADO.NET tables (SQLite or PostgreSQL, same columns): the bulk-loaded items' rows, then the item
/// grains' states that hold data, their stored identity read back into the id (<see cref="StoredGrainKey.ToId"/>).
/// </summary>
public sealed class AdoNetStoredItems(IOptions<RecommenderOptions> options, IOptions<ClusterOptions> cluster) : IStoredItems
{
    /// <summary>What the provider stores as GrainTypeString for the item grain's state.</summary>
    public const string ItemGrainType = "item";

    public async IAsyncEnumerable<string> ListIdsAsync([EnumeratorCancellation] CancellationToken cancellation)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        await using var connection = await AdoNetConnections.OpenAsync(options.Value, cancellation);
        await using (var bulk = connection.CreateCommand())
        {
            bulk.CommandText = "SELECT ItemId FROM RecommenderBulkItems WHERE ServiceId = @ServiceId";
            bulk.AddParameter("ServiceId", cluster.Value.ServiceId);
            await using var reader = await bulk.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
                if (seen.Add(reader.GetString(0))) yield return reader.GetString(0);
        }
        await using var written = connection.CreateCommand();
        written.CommandText = """
            SELECT GrainIdN0, GrainIdN1, GrainIdExtensionString
            FROM OrleansStorage
            WHERE ServiceId = @ServiceId AND GrainTypeString = @GrainType AND PayloadBinary IS NOT NULL
            """;
        written.AddParameter("ServiceId", cluster.Value.ServiceId);
        written.AddParameter("GrainType", ItemGrainType);
        await using var rows = await written.ExecuteReaderAsync(cancellation);
        while (await rows.ReadAsync(cancellation))
        {
            var key = new StoredGrainKey(rows.GetInt64(0), rows.GetInt64(1), rows.IsDBNull(2) ? "" : rows.GetString(2));
            if (key.ToId() is { } id && seen.Add(id)) yield return id;
        }
    }
}
