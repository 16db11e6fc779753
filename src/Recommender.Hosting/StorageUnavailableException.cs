namespace Recommender.Hosting;

/// <summary>
/// Grain storage (PostgreSQL or the SQLite file) failed in a way that passes (unreachable, locked, full, read-only): the
/// same request can be retried later. Carries only text and <see cref="MayHaveBeenWritten"/>, so it crosses silo and
/// client boundaries (the database drivers' own exceptions do not serialize). An <see cref="OrleansException"/>, so that
/// grain storage passes it on as it is rather than wrapped.
/// </summary>
// The alias is the wire name of the versions before SQLite failures were translated too: nodes of both understand it.
[GenerateSerializer, Alias("recommender.postgres-unavailable")]
public sealed class StorageUnavailableException : OrleansException
{
    public StorageUnavailableException()
    {
    }

    public StorageUnavailableException(string message)
        : base(message)
    {
    }

    public StorageUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public StorageUnavailableException(string message, bool mayHaveBeenWritten)
        : base(message)
    {
        MayHaveBeenWritten = mayHaveBeenWritten;
    }

    /// <summary>
    /// False when nothing was written: the database could not be reached at all, or refused the write as a whole (a
    /// SQLite file locked, full or read-only). True when the connection broke while a statement was running, or the
    /// file failed while a commit was made durable: the write may have been stored just before (the acknowledgement, not
    /// the write, was lost), so it must be sent again under the same ids, never taken as refused.
    /// </summary>
    [Id(0)]
    public bool MayHaveBeenWritten { get; init; }

    /// <summary>What failed, in words fit for a client (no host names or paths), e.g. "The database could not be reached".</summary>
    [Id(1)]
    public string Reason { get; init; } = "The database could not be reached";
}
