using System.Data.Common;

namespace Recommender.Hosting;

/// <summary>
/// Turns a transient database failure escaping a grain call (connection refused or lost, server
/// shutting down, timeout: <see cref="DbException.IsTransient"/>) into a
/// <see cref="PostgresUnavailableException"/>, which callers can recognise as retryable. Other
/// exceptions pass through unchanged.
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
            throw new PostgresUnavailableException($"Grain storage is unavailable ({failure.Message}); retry later.");
        }
    }

    /// <summary>The first transient <see cref="DbException"/> in the exception's chain, or null.</summary>
    public static DbException? TransientDatabaseFailure(Exception exception)
    {
        var pending = new Stack<Exception>([exception]);
        while (pending.TryPop(out var current))
        {
            if (current is DbException { IsTransient: true } database)
            {
                return database;
            }
            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    pending.Push(inner);
                }
            }
            else if (current.InnerException is { } inner)
            {
                pending.Push(inner);
            }
        }
        return null;
    }
}

public static class PostgresStorageFailureExtensions
{
    /// <summary>Reports transient grain-storage failures to callers as <see cref="PostgresUnavailableException"/>.</summary>
    public static ISiloBuilder AddPostgresStorageFailureTranslation(this ISiloBuilder silo) =>
        silo.AddIncomingGrainCallFilter<PostgresStorageFailureFilter>();
}
