namespace Recommender.Model.Data;

/// <summary>Interaction file formats that <see cref="InteractionLoader"/> reads.</summary>
public enum InteractionFormat
{
    /// <summary>
    /// One user per line: chronological positive integer item ids separated by white space (SASRec / gSASRec splits),
    /// read by <see cref="SequenceFile"/> for training and loading alike.
    /// </summary>
    Sequences,

    /// <summary>SASRec pairs: "user item" per line, one interaction each, chronological per user.</summary>
    Pairs,

    /// <summary>MovieLens ratings.csv: header "userId,movieId,rating,timestamp", Unix seconds; RFC 4180 CSV, so fields may be quoted.</summary>
    MovieLensCsv,

    /// <summary>MovieLens u.data: tab-separated "user item rating timestamp", no header.</summary>
    MovieLensUData,

    /// <summary>The cluster's event export, see <see cref="EventExportFormat"/>.</summary>
    EventExport,
}
