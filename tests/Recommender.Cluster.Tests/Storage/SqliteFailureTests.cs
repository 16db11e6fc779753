using Microsoft.Data.Sqlite;
using Recommender.Hosting;

namespace Recommender.Cluster.Tests.Storage;

/// <summary>
/// Failures of a real SQLite file, told apart by <see cref="StorageFailures"/>: those an operator or time mends (the file
/// locked by another process, its disk full, read-only) are retryable and wrote nothing; the others are not translated.
/// </summary>
public sealed class SqliteFailureTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "recommender-tests", Guid.NewGuid().ToString("N"));
    private readonly string _path;

    public SqliteFailureTests()
    {
        Directory.CreateDirectory(_directory);
        _path = Path.Combine(_directory, "store.db");
        using var connection = Open();
        Execute(connection, "PRAGMA journal_mode=WAL; CREATE TABLE Rows (Id TEXT PRIMARY KEY, Payload BLOB)");
    }

    [Fact]
    public void A_full_disk_is_retryable_and_nothing_was_stored()
    {
        using var connection = Open();
        // The page limit stands in for the disk: SQLite answers both with SQLITE_FULL.
        var pages = Convert.ToInt64(Scalar(connection, "PRAGMA page_count"));
        Execute(connection, $"PRAGMA max_page_count={pages + 2}");

        var failure = Assert.Throws<SqliteException>(() => Insert(connection, "big", new byte[1 << 20]));
        Assert.Equal(SQLitePCL.raw.SQLITE_FULL, failure.SqliteErrorCode);

        var translated = StorageFailures.Translate(new InvalidOperationException("wrapped", failure));
        Assert.NotNull(translated);
        Assert.False(translated.MayHaveBeenWritten);
        Assert.Equal("The disk that holds the database file is full", translated.Reason);
        Assert.Equal(0L, Count("big"));
    }

    [Fact]
    public void A_file_locked_by_another_process_is_retryable_once_the_wait_is_spent()
    {
        using var holder = Open();
        using var transaction = holder.BeginTransaction(deferred: false);
        Insert(holder, "held", [1]);

        using var writer = Open(defaultTimeoutSeconds: 1);
        var started = DateTime.UtcNow;
        var failure = Assert.Throws<SqliteException>(() => Insert(writer, "blocked", [2]));
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromSeconds(0.9), "the writer should wait out its busy timeout first");
        Assert.Equal(SQLitePCL.raw.SQLITE_BUSY, failure.SqliteErrorCode);

        var translated = StorageFailures.Translate(failure);
        Assert.NotNull(translated);
        Assert.False(translated.MayHaveBeenWritten);
        Assert.Equal("The database file is locked by another process", translated.Reason);

        transaction.Rollback();
        Insert(writer, "blocked", [2]);
        Assert.Equal(1L, Count("blocked"));
    }

    [Fact]
    public void A_read_only_file_is_retryable()
    {
        using var connection = new SqliteConnection($"Data Source={_path};Mode=ReadOnly");
        connection.Open();
        var failure = Assert.Throws<SqliteException>(() => Insert(connection, "x", [1]));

        var translated = StorageFailures.Translate(failure);
        Assert.NotNull(translated);
        Assert.False(translated.MayHaveBeenWritten);
        Assert.Equal("The database file is read-only", translated.Reason);
    }

    [Fact]
    public void A_read_never_may_have_been_written_and_other_errors_are_not_translated()
    {
        var ioError = new SqliteException("disk I/O error", SQLitePCL.raw.SQLITE_IOERR);
        Assert.True(StorageFailures.Translate(ioError)!.MayHaveBeenWritten);
        Assert.False(StorageFailures.Translate(ioError, mayHaveWritten: false)!.MayHaveBeenWritten);

        using var connection = Open();
        Insert(connection, "twice", [1]);
        var constraint = Assert.Throws<SqliteException>(() => Insert(connection, "twice", [1]));
        Assert.Equal(SQLitePCL.raw.SQLITE_CONSTRAINT, constraint.SqliteErrorCode);
        Assert.Null(StorageFailures.Translate(constraint));
        Assert.Null(StorageFailures.Translate(new SqliteException("database disk image is malformed", SQLitePCL.raw.SQLITE_CORRUPT)));
        Assert.Null(StorageFailures.Translate(new InvalidOperationException("not a database failure")));
    }

    private SqliteConnection Open(int defaultTimeoutSeconds = 30)
    {
        var connection = new SqliteConnection($"Data Source={_path};Default Timeout={defaultTimeoutSeconds};Pooling=False");
        connection.Open();
        return connection;
    }

    private long Count(string id)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM Rows WHERE Id = $id";
        command.Parameters.AddWithValue("$id", id);
        return (long)command.ExecuteScalar()!;
    }

    private static void Insert(SqliteConnection connection, string id, byte[] payload)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO Rows (Id, Payload) VALUES ($id, $payload)";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$payload", payload);
        command.ExecuteNonQuery();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); }
        catch (IOException) { }
    }
}
