namespace Recommender.Hosting;

/// <summary>
/// Grain storage (PostgreSQL) could not be reached or failed transiently; the same request can be retried later.
/// Carries only a message and <see cref="MayHaveBeenWritten"/>, so it crosses silo and client boundaries (the
/// database driver's own exceptions do not serialize). An <see cref="OrleansException"/>, so that grain storage
/// passes it on as it is rather than wrapped.
/// </summary>
[GenerateSerializer, Alias("recommender.postgres-unavailable")]
public sealed class PostgresUnavailableException : OrleansException
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

    public PostgresUnavailableException(string message, bool mayHaveBeenWritten)
        : base(message)
    {
        MayHaveBeenWritten = mayHaveBeenWritten;
    }

    /// <summary>
    /// False when the database could not be reached at all, so nothing was written. True when the connection broke
    /// while a statement was running: the database may have committed it just before (the acknowledgement, not the
    /// write, was lost), so a write must be sent again under the same ids, never taken as refused.
    /// </summary>
    [Id(0)]
    public bool MayHaveBeenWritten { get; init; }
}
