namespace Recommender.Grains.RateLimiting;

/// <summary>
/// A token bucket: holds at most a burst of requests and refills at a rate, in proportion to the time passed. Taking
/// grants what is there, up to what was asked; an empty bucket says how long until the next request.
/// </summary>
public sealed class TokenBucket(Func<long> ticks)
{
    private double _tokens = double.NaN;
    private long _updated;

    /// <summary>Takes up to <paramref name="wanted"/> requests; the settings are those the callers send now.</summary>
    public (int Granted, TimeSpan RetryAfter) Take(int wanted, int requestsPerSecond, int burst)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(wanted, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(requestsPerSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        var now = ticks();
        // A new bucket starts full, as a new front end's does.
        _tokens = double.IsNaN(_tokens) ? burst : Math.Min(burst, _tokens + (now - _updated) / (double)TimeSpan.TicksPerSecond * requestsPerSecond);
        _updated = now;
        var granted = (int)Math.Min(wanted, Math.Floor(_tokens));
        _tokens -= granted;
        var retryAfter = granted > 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((1 - _tokens) / requestsPerSecond);
        return (granted, retryAfter);
    }
}
