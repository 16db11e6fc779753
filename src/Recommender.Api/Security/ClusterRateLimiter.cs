using System.Threading.RateLimiting;
using Recommender.Abstractions;

namespace Recommender.Api.Security;

/// <summary>
/// A caller's limit counted across the cluster (<c>Recommender:RateLimit:Scope</c> = <c>Cluster</c>): the caller's
/// <see cref="IRateLimitGrain"/> holds the bucket, and this front end takes a small lease from it (a twentieth of a
/// second's rate, at least one request) when its own runs out, so that a busy caller costs a grain call per lease, not
/// per request. A lease not used within a second is dropped, so no front end saves up a burst the bucket no longer has.
/// When the grain cannot be reached the request goes on (it is answered by the cluster, 503 if it is down too).
/// </summary>
public sealed class ClusterRateLimiter(string caller, IGrainFactory grains, RateLimitOptions options, TimeProvider clock) : RateLimiter
{
    private static readonly TimeSpan LeaseLifetime = TimeSpan.FromSeconds(1);
    private readonly Lock _gate = new();
    private readonly int _leaseSize = Math.Clamp(options.RequestsPerSecond / 20, 1, options.BucketSize);
    private int _held;
    private long _leasedAt;
    private long _lastUsed = clock.GetTimestamp();

    public override TimeSpan? IdleDuration => clock.GetElapsedTime(Interlocked.Read(ref _lastUsed));

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_gate) return new RateLimiterStatistics { CurrentAvailablePermits = _held };
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        Interlocked.Exchange(ref _lastUsed, clock.GetTimestamp());
        return TakeHeld(permitCount) ? Granted.Lease : Refused.Empty;
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        if (TakeHeld(permitCount)) return Granted.Lease;
        RateLease lease;
        try
        {
            lease = await grains.GetGrain<IRateLimitGrain>(caller).Take(Math.Max(_leaseSize, permitCount), options.RequestsPerSecond, options.BucketSize).WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Without the cluster the request cannot be served anyway; it is let through to be answered as such.
            return Granted.Lease;
        }
        if (lease.Granted < permitCount) return new Refused(lease.RetryAfter);
        lock (_gate)
        {
            _held = lease.Granted - permitCount;
            _leasedAt = clock.GetTimestamp();
        }
        return Granted.Lease;
    }

    private bool TakeHeld(int permitCount)
    {
        lock (_gate)
        {
            if (_held > 0 && clock.GetElapsedTime(_leasedAt) > LeaseLifetime) _held = 0;
            if (_held < permitCount) return false;
            _held -= permitCount;
            return true;
        }
    }

    private sealed class Granted : RateLimitLease
    {
        public static readonly Granted Lease = new();

        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }

    private sealed class Refused(TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Refused Empty = new(null);

        public override bool IsAcquired => false;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter is { } wait && metadataName == MetadataName.RetryAfter.Name ? wait : null;
            return metadata is not null;
        }
    }
}
