using System.Globalization;

namespace Recommender.Grains.Items;

/// <summary>
/// Identifies one shard of one model version: "{version}/{index}-of-{count}". The version in the key lets a new
/// version's shards be built beside the old ones; the count lets a shard work out its partition on its own.
/// </summary>
public readonly record struct ShardKey(string Version, int Index, int Count)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Version}/{Index}-of-{Count}");

    public static ShardKey Parse(string key)
    {
        var slash = key.LastIndexOf('/');
        var parts = slash > 0 ? key[(slash + 1)..].Split("-of-") : [];
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            || count <= 0 || index >= count)
            throw new FormatException($"'{key}' is not a shard key of the form version/index-of-count.");
        return new ShardKey(key[..slash], index, count);
    }

    /// <summary>Model items are dealt round-robin by dense id: dense id d lives in shard (d - 1) mod count, at row (d - 1) / count.</summary>
    public static int ShardOf(int denseId, int count) => (denseId - 1) % count;

    public static int RowOf(int denseId, int count) => (denseId - 1) / count;
}
