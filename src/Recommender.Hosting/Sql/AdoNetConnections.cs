using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Recommender.Hosting.Sql;

/// <summary>Connections and parameters for the project's own queries beside grain storage (SQLite or PostgreSQL).</summary>
internal static class AdoNetConnections
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> SqliteWriters = new(StringComparer.Ordinal);

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

    /// <summary>
    /// Runs a write on a connection of its own. SQLite takes one writer at a time and makes the others wait by
    /// sleeping on their threads: the project's writes to one SQLite file queue here instead, holding no thread.
    /// </summary>
    public static async Task WriteAsync(RecommenderOptions settings, Func<DbConnection, Task> write, CancellationToken cancellation)
    {
        var sqliteWriter = settings.UsesSqlite ? SqliteWriter(settings.StorageConnectionString) : null;
        if (sqliteWriter is not null) await sqliteWriter.WaitAsync(cancellation);
        try
        {
            await using var connection = await OpenAsync(settings, cancellation);
            await write(connection);
        }
        finally
        {
            sqliteWriter?.Release();
        }
    }

    /// <summary>The one queue of writers to a SQLite file, shared by grain storage and the project's own writes.</summary>
    public static SemaphoreSlim SqliteWriter(string connectionString) => SqliteWriters.GetOrAdd(connectionString, _ => new SemaphoreSlim(1, 1));

    public static DbParameter AddParameter(this DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
        return parameter;
    }
}
