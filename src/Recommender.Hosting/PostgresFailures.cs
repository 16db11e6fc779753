using System.Data.Common;
using System.Net.Sockets;
using Npgsql;

namespace Recommender.Hosting;

/// <summary>
/// Tells a transient database failure (connection refused or lost, server shutting down, timeout:
/// <see cref="DbException.IsTransient"/>) from any other, and whether a statement may have run before it
/// (<see cref="CouldNotConnect"/>), and turns it into the <see cref="PostgresUnavailableException"/> callers retry on.
/// </summary>
public static class PostgresFailures
{
    /// <summary>
    /// The retryable exception for <paramref name="exception"/> when it is a transient database failure, else null.
    /// <paramref name="mayHaveWritten"/> is false for an operation that writes nothing (a read), which then cannot have
    /// been stored whatever broke; otherwise only a failure to connect says that nothing was written.
    /// </summary>
    public static PostgresUnavailableException? Translate(Exception exception, bool mayHaveWritten = true) =>
        TransientDatabaseFailure(exception) is { } failure
            ? new PostgresUnavailableException($"Grain storage is unavailable ({failure.Message}); retry later.", mayHaveBeenWritten: mayHaveWritten && !CouldNotConnect(exception))
            : null;

    /// <summary>Runs a storage operation, reporting a transient database failure as <see cref="PostgresUnavailableException"/>.</summary>
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
    /// True when the failure happened before any statement reached the server: the connection was refused, the host
    /// is unknown or unreachable, or the server turned the connection away (starting up, shutting down, too many
    /// connections). Anything else (a connection lost mid-statement, a timeout) may have come after the server committed.
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
