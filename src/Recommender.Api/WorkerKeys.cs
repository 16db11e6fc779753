namespace Recommender.Api;

/// <summary>
/// Keys of the stateless workers the front end calls (sessions, similar items, item batches). A cluster client sends
/// every call to one grain through the same gateway, and a stateless worker runs on the silo the call arrives at, so
/// under a single key all of a front end's calls would run on one silo whatever the cluster's size. Spread over
/// <see cref="Count"/> keys, they spread over the gateways.
/// </summary>
public static class WorkerKeys
{
    public const int Count = 256;

    /// <summary>A key for these ids: a session sent again with the same items goes to the silo that has its vector cached.</summary>
    public static long Of(IReadOnlyList<string> ids)
    {
        var hash = new HashCode();
        foreach (var id in ids) hash.Add(id, StringComparer.Ordinal);
        return (uint)hash.ToHashCode() % Count;
    }

    public static long Of(string id) => (uint)StringComparer.Ordinal.GetHashCode(id) % Count;

    /// <summary>A key for work that gains nothing from landing where similar work did.</summary>
    public static long Any() => Random.Shared.Next(Count);
}
