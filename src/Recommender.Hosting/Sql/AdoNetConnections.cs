using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Recommender.Hosting.Sql;

/// <summary>Connections and parameters for the project's own queries beside grain storage (SQLite or PostgreSQL).</summary>
internal static class AdoNetConnections
{
    public static async Task<DbConnection> OpenAsync(RecommenderOptions settings, CancellationToken cancellation)
    {
        DbProviderFactory factory = settings.UsesSqlite ? SqliteFactory.Instance : NpgsqlFactory.Instance;
        var connection = factory.CreateConnection()!;
        connection.ConnectionString = settings.StorageConnectionString;
        try
        {
            await connection.OpenAsync(cancellation);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        return connection;
    }

    public static DbParameter AddParameter(this DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
        return parameter;
    }
}
