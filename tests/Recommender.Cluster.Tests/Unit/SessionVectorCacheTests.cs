using Microsoft.Extensions.Options;
using Recommender.Grains;
using Recommender.Grains.Sessions;

namespace Recommender.Cluster.Tests.Unit;

public sealed class SessionVectorCacheTests
{
    private static SessionVectorCache Cache(int size) => new(Options.Create(new ServingOptions { SessionCacheSize = size }));

    [Fact]
    public void A_vector_is_found_again_only_for_the_same_version_and_the_same_items_in_the_same_order()
    {
        using var cache = Cache(100);
        byte[] vector = [1, 2, 3, 4];
        Assert.False(cache.TryGet("v1", ["a", "b"], out _));
        cache.Set("v1", ["a", "b"], vector);
        Assert.True(cache.TryGet("v1", ["a", "b"], out var found));
        Assert.Same(vector, found);
        Assert.False(cache.TryGet("v2", ["a", "b"], out _));
        Assert.False(cache.TryGet("v1", ["b", "a"], out _));
        Assert.False(cache.TryGet("v1", ["a", "b", "b"], out _));
        // The same characters split otherwise are other items.
        Assert.False(cache.TryGet("v1", ["ab"], out _));
        cache.Set("v1", ["a", "bc"], [9]);
        Assert.False(cache.TryGet("v1", ["ab", "c"], out _));
    }

    [Fact]
    public void A_history_that_encodes_to_nothing_is_remembered_as_such()
    {
        using var cache = Cache(100);
        cache.Set("v1", ["unknown"], null);
        Assert.True(cache.TryGet("v1", ["unknown"], out var found));
        Assert.Null(found);
    }

    [Fact]
    public void A_size_of_zero_keeps_nothing_and_a_full_cache_lets_old_entries_go()
    {
        using var off = Cache(0);
        off.Set("v1", ["a"], [1]);
        Assert.False(off.TryGet("v1", ["a"], out _));

        using var small = Cache(10);
        for (var i = 0; i < 1000; i++) small.Set("v1", [$"item-{i}"], [(byte)i]);
        var kept = Enumerable.Range(0, 1000).Count(i => small.TryGet("v1", [$"item-{i}"], out _));
        Assert.InRange(kept, 1, 10);
    }
}
