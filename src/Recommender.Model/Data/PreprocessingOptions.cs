namespace Recommender.Model.Data;

/// <summary>
/// The only ways <see cref="InteractionLoader"/> removes interactions. Defaults remove nothing but exact duplicates.
/// </summary>
public sealed record PreprocessingOptions
{
    /// <summary>Drop re-delivered events (same event id) and repeated identical (user, item, timestamp) records.</summary>
    public bool Deduplicate { get; init; } = true;

    /// <summary>
    /// Keep only ratings at or above this value (formats with ratings only; in an event export, events without a value
    /// are not ratings and stay, and neither is a purchase, whose value is the amount paid).
    /// </summary>
    public double? MinRating { get; init; }

    /// <summary>
    /// Keep only these event types (event export only), matched ignoring case; each must occur in the data. Null keeps
    /// all but dismissals, which are never kept.
    /// </summary>
    public IReadOnlySet<string>? EventTypes { get; init; }

    /// <summary>Drop items with fewer interactions (0 or 1 = keep all).</summary>
    public int MinItemInteractions { get; init; }

    /// <summary>Drop users with fewer interactions (0 = keep all, including users without any).</summary>
    public int MinUserInteractions { get; init; }

    /// <summary>Repeat the item and user filters until neither removes anything (each can re-break the other).</summary>
    public bool IterateFilters { get; init; } = true;

    /// <summary>
    /// For <see cref="InteractionFormat.Sequences"/> files (whose ids are positive integers): keep them as the dense ids
    /// (vocabulary "1".."max"), so that companion files in the same id space stay valid. Items removed by a filter
    /// then keep their id with no interactions. When false, or for any other format, item ids are remapped densely
    /// in external-id order.
    /// </summary>
    public bool KeepDenseIds { get; init; } = true;

    /// <exception cref="ArgumentException">An option no data could satisfy sensibly; the message names it and its value.</exception>
    public void Validate()
    {
        // A NaN threshold would compare false with every rating and silently drop the whole file.
        if (MinRating is { } minRating && !double.IsFinite(minRating))
            throw new ArgumentException($"{nameof(MinRating)} is {minRating.ToString(System.Globalization.CultureInfo.InvariantCulture)}; it must be a finite number.");
        if (EventTypes?.FirstOrDefault(EventExportFormat.IsDismissal) is { } dismiss)
            throw new ArgumentException($"{nameof(EventTypes)} names '{dismiss}': dismissals are users turning items down, never interactions to train on.");
        if (MinItemInteractions < 0) throw new ArgumentException($"{nameof(MinItemInteractions)} is {MinItemInteractions}; it cannot be negative.");
        if (MinUserInteractions < 0) throw new ArgumentException($"{nameof(MinUserInteractions)} is {MinUserInteractions}; it cannot be negative.");
    }
}
