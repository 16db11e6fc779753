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
    /// <exception cref="DataFileException">The directory cannot be created, or the file is no usable SQLite database.</exception>
    public static void EnsureCreated(string connectionString)
    {
        var file = FilePath(connectionString);
        if (file is not null)
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(file));
            try
            {
                if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new DataFileException($"The data directory '{directory}' cannot be created: {e.Message}", e);
            }
        }
        try
        {
            Apply(connectionString);
        }
        catch (SqliteException e)
        {
            throw new DataFileException(e.SqliteErrorCode switch
            {
                SQLitePCL.raw.SQLITE_NOTADB or SQLitePCL.raw.SQLITE_CORRUPT =>
                    $"The data file '{file}' is not a SQLite database or is damaged ({e.Message.TrimEnd('.')}): restore it from a backup " +
                    "(recommender backup), or move it away to start with an empty one.",
                SQLitePCL.raw.SQLITE_BUSY or SQLitePCL.raw.SQLITE_LOCKED =>
                    $"The data file '{file}' is locked by another process ({e.Message.TrimEnd('.')}): stop it and start the node again.",
                _ => $"The data file '{file}' cannot be opened for writing ({e.Message.TrimEnd('.')}): check its permissions and the space on its disk.",
            }, e);
        }
    }

    /// <summary>The database file a connection string names, or null for an in-memory database or a "file:" URI.</summary>
    public static string? FilePath(string connectionString)
    {
        var file = new SqliteConnectionStringBuilder(connectionString).DataSource;
        return string.IsNullOrEmpty(file) || file == ":memory:" || file.StartsWith("file:", StringComparison.Ordinal) ? null : file;
    }

    private static void Apply(string connectionString)
    {
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
