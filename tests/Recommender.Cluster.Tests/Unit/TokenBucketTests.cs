using Recommender.Grains.RateLimiting;

namespace Recommender.Cluster.Tests.Unit;

/// <summary>The bucket behind the cluster-wide rate limit: full at first, granting what it holds, refilling with time up to the burst.</summary>
public sealed class TokenBucketTests
{
    private long _now = 1_000 * TimeSpan.TicksPerSecond;

    private void Pass(double seconds) => _now += (long)(seconds * TimeSpan.TicksPerSecond);

    [Fact]
    public void A_bucket_grants_what_it_holds_says_when_the_next_request_comes_and_refills_up_to_its_burst()
    {
        var bucket = new TokenBucket(() => _now);
        // Full at first: three of the five asked for.
        Assert.Equal((3, TimeSpan.Zero), bucket.Take(5, requestsPerSecond: 2, burst: 3));
        Assert.Equal((0, TimeSpan.FromSeconds(0.5)), bucket.Take(1, 2, 3));
        Pass(0.25);
        Assert.Equal((0, TimeSpan.FromSeconds(0.25)), bucket.Take(1, 2, 3));
        Pass(0.25);
        Assert.Equal((1, TimeSpan.Zero), bucket.Take(4, 2, 3));
        // A long quiet spell fills it to the burst, not beyond.
        Pass(60);
        Assert.Equal((3, TimeSpan.Zero), bucket.Take(10, 2, 3));
        // The settings come with each call: a smaller burst caps what a full bucket holds.
        Pass(60);
        Assert.Equal((1, TimeSpan.Zero), bucket.Take(10, 2, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => bucket.Take(0, 2, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => bucket.Take(1, 0, 3));
    }
}
