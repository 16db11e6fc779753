using System.Reflection;
using Microsoft.Data.Sqlite;

namespace Recommender.Hosting.Sql;

/// <summary>
/// Creates the grain-storage schema and the project's own tables (bulk items, grain rows) in a SQLite file (embedded
/// script sqlite-storage.sql) and turns on write-ahead logging.
/// </summary>
public static class SqliteStorageSchema
{
    public static readonly string[] QueryKeys = ["ReadFromStorageKey", "WriteToStorageKey", "ClearStorageKey"];

    public static readonly string[] Tables = ["OrleansQuery", "OrleansStorage", "RecommenderBulkItems", "RecommenderGrainRows"];

    public static string Script
    {
        get
        {
            using var stream = typeof(SqliteStorageSchema).Assembly.GetManifestResourceStream("Recommender.Hosting.Sql.sqlite-storage.sql")
                ?? throw new InvalidOperationException("The embedded resource sqlite-storage.sql is missing.");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
    }

    /// <summary>
    /// Applies the script unless every table and query it defines is already present (a file from an earlier release
    /// gets the tables added since); creates the file's directory if needed.
    /// </summary>
    public static void EnsureCreated(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (!string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:" && !builder.DataSource.StartsWith("file:", StringComparison.Ordinal))
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
            if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        }
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        Execute(connection, "PRAGMA journal_mode = WAL;");
        if (HasEverything(connection)) return;
        using var transaction = connection.BeginTransaction();
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = Script;
            command.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    private static bool HasEverything(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ({string.Join(", ", Tables.Select(t => $"'{t}'"))});";
        if (Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) != Tables.Length) return false;
        command.CommandText = $"SELECT count(*) FROM OrleansQuery WHERE QueryKey IN ({string.Join(", ", QueryKeys.Select(k => $"'{k}'"))});";
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == QueryKeys.Length;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
