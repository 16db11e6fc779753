namespace Recommender.Grains.Items;

/// <summary>The persisted state of an item grain.</summary>
[GenerateSerializer, Alias("recommender.item-state")]
public sealed class ItemState
{
    [Id(0)] public string? Title { get; set; }

    [Id(1)] public string? Text { get; set; }

    [Id(2)] public List<string> Tags { get; set; } = [];

    /// <summary>An explicitly supplied vector (float32 bytes), if any.</summary>
    [Id(3)] public byte[]? Embedding { get; set; }

    [Id(4)] public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The raw text vector of the composed text (float32 bytes), kept for every model version that can project it.</summary>
    [Id(5)] public byte[]? TextVector { get; set; }

    /// <summary>Kept in the catalogue but never recommended.</summary>
    [Id(6)] public bool Hidden { get; set; }

    /// <summary>When the item stops being recommended, if ever.</summary>
    [Id(7)] public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>When the item may first be recommended, if it was written before that.</summary>
    [Id(8)] public DateTimeOffset? AvailableFrom { get; set; }
}
