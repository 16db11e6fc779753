using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Recommender.Grains.Items;

namespace Recommender.Hosting.Sql;

/// <summary>
/// The shards' grain states in the ADO.NET grain-storage table (SQLite or PostgreSQL, same columns). A shard key
/// ("{version}/{index}-of-{count}") never reads as a number or a GUID, so the provider files it whole as the grain
/// id's extension string (<see cref="Grains.StoredGrainKey"/>).
/// </summary>
public sealed class AdoNetStoredShards(IOptions<RecommenderOptions> options, IOptions<ClusterOptions> cluster) : IStoredShards
{
    /// <summary>What the provider stores as GrainTypeString for the shard grain's state.</summary>
    public const string ShardGrainType = "shard";

    public async Task<int> DeleteStatesAsync(string version, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(version);
        var prefix = $"{version}/";
        var deleted = 0;
        await AdoNetConnections.WriteAsync(options.Value, async connection =>
        {
            await using var delete = connection.CreateCommand();
            // substr, not LIKE, which would read '_' in a version as a wildcard.
            delete.CommandText = """
                DELETE FROM OrleansStorage
                WHERE ServiceId = @ServiceId AND GrainTypeString = @GrainType AND substr(GrainIdExtensionString, 1, @Length) = @Prefix
                """;
            delete.AddParameter("ServiceId", cluster.Value.ServiceId);
            delete.AddParameter("GrainType", ShardGrainType);
            delete.AddParameter("Length", prefix.Length);
            delete.AddParameter("Prefix", prefix);
            deleted = await delete.ExecuteNonQueryAsync(cancellation);
        }, cancellation);
        return deleted;
    }
}
