using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Recommender.Grains;
using Recommender.Grains.Users;

namespace Recommender.Hosting.Sql;

/// <summary>
/// The user states in the ADO.NET grain-storage table (SQLite or PostgreSQL, same columns): rows of this service
/// whose grain type is the user grain's and whose payload is not cleared.
/// </summary>
public sealed class AdoNetStoredUsers(IOptions<RecommenderOptions> options, IOptions<ClusterOptions> cluster) : IStoredUsers
{
    /// <summary>What the provider stores as GrainTypeString for the user grain's state.</summary>
    public const string UserGrainType = "user";

    private const string Query = """
        SELECT GrainIdN0, GrainIdN1, GrainIdExtensionString
        FROM OrleansStorage
        WHERE ServiceId = @ServiceId AND GrainTypeString = @GrainType AND PayloadBinary IS NOT NULL
        """;

    public async Task<IReadOnlyList<StoredGrainKey>> ListAsync(CancellationToken cancellation)
    {
        await using var connection = await AdoNetConnections.OpenAsync(options.Value, cancellation);
        await using var command = connection.CreateCommand();
        command.CommandText = Query;
        command.AddParameter("ServiceId", cluster.Value.ServiceId);
        command.AddParameter("GrainType", UserGrainType);
        var keys = new List<StoredGrainKey>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
            keys.Add(new StoredGrainKey(reader.GetInt64(0), reader.GetInt64(1), reader.IsDBNull(2) ? "" : reader.GetString(2)));
        return keys;
    }
}
