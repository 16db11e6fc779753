using System.Data.Common;
using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Npgsql;
using static SQLitePCL.raw;

namespace Recommender.Hosting;

/// <summary>
/// Tells a database failure that goes away by itself or by an operator's hand (PostgreSQL: connection refused or lost,
/// server shutting down, timeout, <see cref="DbException.IsTransient"/>; a SQLite file: locked by another process, its
/// disk full, read-only, unreadable; a full disk under a model package being saved) from any other, says whether a
/// statement may have been stored before it, and turns it into the <see cref="StorageUnavailableException"/> callers
/// retry on.
/// </summary>
public static class StorageFailures
{
    /// <summary>
    /// The retryable exception for <paramref name="exception"/> when it is a database failure of that kind, else null.
    /// <paramref name="mayHaveWritten"/> is false for an operation that writes nothing (a read), which then cannot have
    /// been stored whatever broke; otherwise the failure decides (<see cref="StorageUnavailableException.MayHaveBeenWritten"/>).
    /// </summary>
    public static StorageUnavailableException? Translate(Exception exception, bool mayHaveWritten = true) =>
        Classify(exception) is var (failure, reason, nothingStored)
            ? new StorageUnavailableException($"Grain storage is unavailable ({failure.Message}); retry later.", mayHaveBeenWritten: mayHaveWritten && !nothingStored)
            {
                Reason = reason,
            }
            : null;

    /// <summary>Runs a storage operation, reporting a retryable database failure as <see cref="StorageUnavailableException"/>.</summary>
    public static async Task RunAsync(Func<Task> operation, bool writes)
    {
        try
        {
            await operation();
        }
        catch (Exception e) when (Translate(e, writes) is { } translated)
        {
            throw translated;
        }
    }

    /// <inheritdoc cref="RunAsync(Func{Task}, bool)"/>
    public static async Task<T> RunAsync<T>(Func<Task<T>> operation, bool writes)
    {
        try
        {
            return await operation();
        }
        catch (Exception e) when (Translate(e, writes) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>
    /// True when the failure happened before any statement reached the PostgreSQL server: the connection was refused,
    /// the host is unknown or unreachable, or the server turned the connection away (starting up, shutting down, too
    /// many connections). Anything else (a connection lost mid-statement, a timeout) may have come after the server committed.
    /// </summary>
    public static bool CouldNotConnect(Exception exception)
    {
        foreach (var current in Chain(exception))
        {
            switch (current)
            {
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostNotFound or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.TryAgain }:
                // 57P03 cannot_connect_now (starting up, shutting down, in recovery); 53300 too_many_connections.
                case PostgresException { SqlState: PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.TooManyConnections }:
                    return true;
            }
        }
        return false;
    }

    /// <summary>The first transient <see cref="DbException"/> in the exception's chain, or null.</summary>
    public static DbException? TransientDatabaseFailure(Exception exception) =>
        Chain(exception).OfType<DbException>().FirstOrDefault(e => e.IsTransient);

    /// <summary>
    /// The failure of a SQLite file that an operator or time can mend, with what a client is told of it, or null. SQLite
    /// rolls back a statement or transaction that fails so, so nothing was stored, except after an I/O error, which can
    /// strike while a commit is being made durable.
    /// </summary>
    public static (SqliteException Failure, string Reason, bool NothingStored)? SqliteFailure(Exception exception)
    {
        foreach (var sqlite in Chain(exception).OfType<SqliteException>())
        {
            // Our own writers queue in process (AdoNetConnections): busy or locked means another process held the file.
            (string Reason, bool NothingStored)? known = sqlite.SqliteErrorCode switch
            {
                SQLITE_BUSY or SQLITE_LOCKED => ("The database file is locked by another process", true),
                SQLITE_FULL => ("The disk that holds the database file is full", true),
                SQLITE_READONLY => ("The database file is read-only", true),
                SQLITE_CANTOPEN => ("The database file cannot be opened", true),
                SQLITE_NOMEM => ("The database ran out of memory", true),
                SQLITE_IOERR => ("The database file could not be read or written (I/O error)", false),
                _ => null,
            };
            if (known is var (reason, nothingStored)) return (sqlite, reason, nothingStored);
        }
        return null;
    }

    /// <summary>
    /// True for a write the disk had no room for: ENOSPC or EDQUOT (Linux errno in the HResult) or ERROR_DISK_FULL or
    /// ERROR_HANDLE_DISK_FULL (Windows).
    /// </summary>
    public static bool IsDiskFull(IOException exception) =>
        exception.HResult is 28 or 122 or unchecked((int)0x80070070) or unchecked((int)0x80070027);

    private static (Exception Failure, string Reason, bool NothingStored)? Classify(Exception exception)
    {
        if (SqliteFailure(exception) is var (sqlite, reason, nothingStored)) return (sqlite, reason, nothingStored);
        // The only files grains write are model packages, staged in a directory that is removed when a write fails.
        if (Chain(exception).OfType<IOException>().FirstOrDefault(IsDiskFull) is { } full) return (full, "A disk of the node is full", true);
        if (TransientDatabaseFailure(exception) is not { } transient) return null;
        if (CouldNotConnect(exception)) return (transient, "The database could not be reached", true);
        // The server refused the statement with an error and the session goes on: the statement, and its transaction,
        // were rolled back. A FATAL one ends the session, possibly after a commit it could not acknowledge.
        if (transient is PostgresException { InvariantSeverity: "ERROR" } refused)
            return (refused, refused.SqlState switch
            {
                PostgresErrorCodes.DiskFull => "The database server's disk is full",
                _ when refused.SqlState.StartsWith("53", StringComparison.Ordinal) => "The database server is short of resources",
                _ => "The database could not complete the request",
            }, true);
        return (transient, "The connection to the database broke", false);
    }

    private static IEnumerable<Exception> Chain(Exception exception)
    {
        var pending = new Stack<Exception>([exception]);
        while (pending.TryPop(out var current))
        {
            yield return current;
            if (current is AggregateException aggregate)
                foreach (var inner in aggregate.InnerExceptions) pending.Push(inner);
            else if (current.InnerException is { } inner)
                pending.Push(inner);
        }
    }
}
