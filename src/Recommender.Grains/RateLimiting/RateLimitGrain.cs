using Recommender.Abstractions;

namespace Recommender.Grains.RateLimiting;

/// <summary>One caller's cluster-wide allowance (<see cref="IRateLimitGrain"/>); the bucket does the counting.</summary>
public sealed class RateLimitGrain(TimeProvider clock) : Grain, IRateLimitGrain
{
    private readonly TokenBucket _bucket = new(() => (long)(clock.GetTimestamp() * ((double)TimeSpan.TicksPerSecond / clock.TimestampFrequency)));

    public Task<RateLease> Take(int wanted, int requestsPerSecond, int burst)
    {
        var (granted, retryAfter) = _bucket.Take(wanted, requestsPerSecond, burst);
        return Task.FromResult(new RateLease(granted, retryAfter));
    }
}
