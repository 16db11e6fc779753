using System.CommandLine;
using Recommender.Model.Data;

namespace Recommender.Cli;

/// <summary>
/// The loader's filters (<see cref="PreprocessingOptions"/>) as command-line options, shared by the commands that read
/// interaction files, so that every command filters the same data the same way and names a misplaced filter by its flag.
/// </summary>
internal sealed class FilterOptions
{
    public Option<double?> MinRating { get; } = new("--min-rating")
    {
        Description = "Keep only ratings at or above this value (movielens-csv, movielens-udata; in an event-export, events without a value and purchases, whose value is the amount paid, stay).",
    };

    public Option<int> MinItemInteractions { get; } = new("--min-item-interactions")
    {
        Description = "Drop items with fewer interactions than this, repeated with --min-user-interactions until neither removes anything (0 keeps all).",
    };

    public Option<int> MinUserInteractions { get; } = new("--min-user-interactions")
    {
        Description = "Drop users with fewer interactions than this (0 keeps all).",
    };

    public Option<string[]> EventTypes { get; } = new("--event-types")
    {
        Description = "Keep only these event types, e.g. --event-types view purchase (event-export; dismissals are never kept).",
        AllowMultipleArgumentsPerToken = true,
    };

    public IEnumerable<Option> All => [MinRating, MinItemInteractions, MinUserInteractions, EventTypes];

    /// <summary>True when any filter was given, so a command can read its data through the filtering loader.</summary>
    public bool AnyGiven(ParseResult parse) => All.Any(option => parse.GetResult(option) is { Implicit: false });

    /// <exception cref="ArgumentException">A filter given for a format it cannot apply to, or a negative count.</exception>
    public PreprocessingOptions Read(ParseResult parse, InteractionFormat format, string formatName)
    {
        var minRating = parse.GetValue(MinRating);
        if (minRating is not null && format is not (InteractionFormat.MovieLensCsv or InteractionFormat.MovieLensUData or InteractionFormat.EventExport))
            throw new ArgumentException($"--min-rating needs a format with ratings (movielens-csv, movielens-udata, event-export); {formatName} has none.");
        if (minRating is { } rating && !double.IsFinite(rating))
            throw new ArgumentException($"--min-rating must be a finite number, not {rating}.");
        var types = parse.GetValue(EventTypes);
        if (types is { Length: > 0 } && format != InteractionFormat.EventExport)
            throw new ArgumentException($"--event-types applies to event-export files only, not {formatName}.");
        if (types is not null && types.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException("--event-types holds an empty event type.");
        if (types?.FirstOrDefault(EventExportFormat.IsDismissal) is { } dismiss)
            throw new ArgumentException($"--event-types names '{dismiss}': dismissals are users turning items down, never interactions to train on.");
        foreach (var option in new[] { MinItemInteractions, MinUserInteractions })
            if (parse.GetValue(option) < 0)
                throw new ArgumentException($"{option.Name} is {parse.GetValue(option)}; it cannot be negative.");
        return new PreprocessingOptions
        {
            MinRating = minRating,
            EventTypes = types is { Length: > 0 } ? types.ToHashSet(StringComparer.OrdinalIgnoreCase) : null,
            MinItemInteractions = parse.GetValue(MinItemInteractions),
            MinUserInteractions = parse.GetValue(MinUserInteractions),
        };
    }
}
