using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Recommender.Grains.Ranking;

namespace Recommender.Grains.Sessions;

/// <summary>
/// Interest vectors of the sessions this silo encoded lately, by model version and the items the encoder read: a
/// version's encoder is fixed, so the same items give the same vector. At most <see cref="ServingOptions.SessionCacheSize"/>
/// are kept, the least recently used going first. The items are keyed by a SHA-256 digest, so an entry's size does not
/// grow with a long session's ids, and one session cannot be made to read another's vector.
/// </summary>
public sealed class SessionVectorCache(IOptions<ServingOptions> options) : IDisposable
{
    private static readonly MemoryCacheEntryOptions Entry = new() { Size = 1 };

    private readonly MemoryCache? _vectors = options.Value.SessionCacheSize > 0
        ? new MemoryCache(new MemoryCacheOptions { SizeLimit = options.Value.SessionCacheSize })
        : null;

    /// <summary>The vector cached for <paramref name="items"/> under <paramref name="version"/> (null: the encoder gave nothing to rank with).</summary>
    public bool TryGet(string version, string[] items, out byte[]? vector)
    {
        if (_vectors is not null && _vectors.TryGetValue(Key(version, items), out Encoded? encoded))
        {
            vector = encoded!.Vector;
            return true;
        }
        vector = null;
        return false;
    }

    public void Set(string version, string[] items, byte[]? vector) => _vectors?.Set(Key(version, items), new Encoded(vector), Entry);

    public void Dispose() => _vectors?.Dispose();

    private static SessionKey Key(string version, string[] items) => new(version, EncoderInputDigest.Of(items));

    private readonly record struct SessionKey(string Version, EncoderInputDigest Items);

    private sealed record Encoded(byte[]? Vector);
}
