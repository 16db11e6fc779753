using System.Data.Common;
using System.Net.Sockets;
using Npgsql;

namespace Recommender.Hosting;

/// <summary>
/// Turns a transient database failure escaping a grain call (connection refused or lost, server
/// shutting down, timeout: <see cref="DbException.IsTransient"/>) into a
/// <see cref="PostgresUnavailableException"/>, which callers can recognise as retryable, marked with whether a
/// statement may have run (<see cref="CouldNotConnect"/>). Other exceptions pass through unchanged.
/// </summary>
public sealed class PostgresStorageFailureFilter : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (Exception e) when (TransientDatabaseFailure(e) is { } failure)
        {
            throw new PostgresUnavailableException($"Grain storage is unavailable ({failure.Message}); retry later.", mayHaveBeenWritten: !CouldNotConnect(e));
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

    /// <summary>The first transient <see cref="DbException"/> in the exception's chain, or null.</summary>
    public static DbException? TransientDatabaseFailure(Exception exception) =>
        Chain(exception).OfType<DbException>().FirstOrDefault(e => e.IsTransient);
}

public static class PostgresStorageFailureExtensions
{
    /// <summary>Reports transient grain-storage failures to callers as <see cref="PostgresUnavailableException"/>.</summary>
    public static ISiloBuilder AddPostgresStorageFailureTranslation(this ISiloBuilder silo) =>
        silo.AddIncomingGrainCallFilter<PostgresStorageFailureFilter>();
}
