namespace Recommender.Model.Data;

/// <summary>
/// User behaviour sequences over a dense item vocabulary: item ids run 1..<see cref="ItemCount"/>, 0 is padding.
/// External ids are kept so that results can be mapped back to the catalogue.
/// </summary>
public sealed class SequenceDataset
{
    public SequenceDataset(IReadOnlyList<int[]> sequences, IReadOnlyList<string> itemIds, IReadOnlyList<string>? userIds = null)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(itemIds);
        if (userIds is not null && userIds.Count != sequences.Count)
            throw new ArgumentException($"userIds has {userIds.Count} entries but there are {sequences.Count} sequences.", nameof(userIds));
        for (var u = 0; u < sequences.Count; u++)
            foreach (var item in sequences[u])
                if (item < 1 || item > itemIds.Count)
                    throw new ArgumentException($"Sequence {u} holds item {item}, outside 1..{itemIds.Count}.", nameof(sequences));
        Sequences = sequences;
        ItemIds = itemIds;
        UserIds = userIds;
    }

    /// <summary>Chronological dense item ids per user.</summary>
    public IReadOnlyList<int[]> Sequences { get; }

    /// <summary>External id of dense item i + 1 at index i.</summary>
    public IReadOnlyList<string> ItemIds { get; }

    /// <summary>External user ids, parallel to <see cref="Sequences"/>, when known.</summary>
    public IReadOnlyList<string>? UserIds { get; }

    public int ItemCount => ItemIds.Count;

    public int UserCount => Sequences.Count;

    public long InteractionCount => Sequences.Sum(s => (long)s.Length);

    /// <summary>
    /// An identity vocabulary "1".."n" for files whose item ids are already dense. Its ids are made when read, so a
    /// huge n costs nothing until a size check (see <see cref="ModelLimits"/>) can reject it.
    /// </summary>
    public static IReadOnlyList<string> IdentityVocabulary(int itemCount) => new DenseIdVocabulary(itemCount);
}
