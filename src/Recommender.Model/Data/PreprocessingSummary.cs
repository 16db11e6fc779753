namespace Recommender.Model.Data;

/// <summary>What each preprocessing step removed, in records, so that nothing disappears unaccounted for.</summary>
public sealed record PreprocessingSummary
{
    public long Read { get; init; }

    public long DuplicateEvents { get; init; }

    public long DuplicateRecords { get; init; }

    /// <summary>Dismissals in an event export: the user turned the item down, which is not an interaction.</summary>
    public long Dismissals { get; init; }

    public long BelowMinRating { get; init; }

    public long OtherEventTypes { get; init; }

    public long RareItemInteractions { get; init; }

    public long ShortUserInteractions { get; init; }

    public int RemovedItems { get; init; }

    public int RemovedUsers { get; init; }

    public int FilterRounds { get; init; }

    public long Kept { get; init; }

    public override string ToString() =>
        $"read {Read}, duplicate events {DuplicateEvents}, duplicate records {DuplicateRecords}, dismissals {Dismissals}, below min rating {BelowMinRating}, " +
        $"other event types {OtherEventTypes}, rare-item interactions {RareItemInteractions} ({RemovedItems} items), " +
        $"short-user interactions {ShortUserInteractions} ({RemovedUsers} users) in {FilterRounds} rounds, kept {Kept}";
}
