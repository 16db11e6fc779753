namespace Recommender.Hosting;

/// <summary>
/// Grain storage (PostgreSQL) could not be reached or failed transiently: nothing was stored, and the
/// same request can be retried later. Carries only a message, so it crosses silo and client boundaries
/// (the database driver's own exceptions do not serialize).
/// </summary>
[GenerateSerializer, Alias("recommender.postgres-unavailable")]
public sealed class PostgresUnavailableException : Exception
{
    public PostgresUnavailableException()
    {
    }

    public PostgresUnavailableException(string message)
        : base(message)
    {
    }

    public PostgresUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
