using System.Globalization;

namespace Recommender.Model.Data;

/// <summary>
/// The cluster's behaviour-event export, read by <see cref="InteractionLoader"/> with <see cref="InteractionFormat.EventExport"/>.
/// </summary>
/// <remarks>
/// UTF-8 CSV (RFC 4180), first line exactly <see cref="Header"/>, then one event per record:
/// <list type="bullet">
/// <item><c>user_id</c>, <c>item_id</c>: external ids, non-empty;</item>
/// <item><c>event_type</c>: non-empty, e.g. "view", "click", "purchase"; "dismiss" (<see cref="DismissType"/>) is the
/// user turning the item down, not an interaction;</item>
/// <item><c>timestamp</c>: ISO-8601 in UTC with a trailing Z, written as "yyyy-MM-ddTHH:mm:ss.fffffffZ";</item>
/// <item><c>event_id</c>: unique per event; an id seen twice is a re-delivery and is read once;</item>
/// <item><c>value</c>: the event's value (a rating's stars, a purchase's amount paid), a number, or empty for events without one.</item>
/// </list>
/// Files written before the value column (header <see cref="HeaderWithoutValue"/>, five fields) are read too.
/// A field containing a comma, a double quote or a line break is enclosed in double quotes, with inner quotes doubled;
/// so a record usually fills one line but spans several when a quoted field holds a line break.
/// </remarks>
public static class EventExportFormat
{
    public const string Header = "user_id,item_id,event_type,timestamp,event_id,value";

    /// <summary>The header of exports written before events carried their value.</summary>
    public const string HeaderWithoutValue = "user_id,item_id,event_type,timestamp,event_id";

    /// <summary>The event type of a dismissal ("not interested"), which the loader never reads as an interaction.</summary>
    public const string DismissType = "dismiss";

    /// <summary>The event type of a purchase, whose value is the amount paid rather than a rating.</summary>
    public const string PurchaseType = "purchase";

    /// <summary>Whether <paramref name="eventType"/> is a purchase, ignoring case as the cluster does.</summary>
    public static bool IsPurchase(string? eventType) => string.Equals(eventType, PurchaseType, StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether <paramref name="eventType"/> is a dismissal, ignoring case as the cluster does.</summary>
    public static bool IsDismissal(string eventType) => string.Equals(eventType, DismissType, StringComparison.OrdinalIgnoreCase);

    public const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    public static readonly string[] Columns = ["user_id", "item_id", "event_type", "timestamp", "event_id", "value"];

    /// <summary>One data line (without the line break).</summary>
    public static string FormatRow(string userId, string itemId, string eventType, DateTimeOffset timestamp, string eventId, double? value = null) =>
        string.Join(',', Quote(userId), Quote(itemId), Quote(eventType),
            timestamp.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture), Quote(eventId),
            value is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : "");

    /// <summary>Writes the header and the events (without values).</summary>
    public static void Write(TextWriter writer, IEnumerable<(string UserId, string ItemId, string EventType, DateTimeOffset Timestamp, string EventId)> events) =>
        Write(writer, events.Select(e => (e.UserId, e.ItemId, e.EventType, e.Timestamp, e.EventId, (double?)null)));

    /// <summary>Writes the header and the events with their values.</summary>
    public static void Write(TextWriter writer, IEnumerable<(string UserId, string ItemId, string EventType, DateTimeOffset Timestamp, string EventId, double? Value)> events)
    {
        writer.WriteLine(Header);
        foreach (var e in events)
            writer.WriteLine(FormatRow(e.UserId, e.ItemId, e.EventType, e.Timestamp, e.EventId, e.Value));
    }

    /// <summary>
    /// The file's events in order, read record by record (a quoted id may hold a line break), each with the line it
    /// starts on; blank lines are skipped.
    /// </summary>
    /// <exception cref="FormatException">The header or a record is malformed; the message is "path:line: …".</exception>
    public static IEnumerable<ExportedEvent> Read(string path)
    {
        var header = Header;
        foreach (var record in CsvRecordReader.Read(path))
        {
            var lineNumber = record.Line;
            if (lineNumber == 1)
            {
                header = record.AsHeader;
                if (header != Header && header != HeaderWithoutValue)
                    throw Malformed(path, 1, $"expected the header '{Header}', found '{InputFile.Excerpt(header)}'");
                continue;
            }
            if (record.Empty) continue;
            var fields = record.Fields;
            var columns = header == Header ? Columns.Length : Columns.Length - 1;
            if (fields.Count != columns)
                throw Malformed(path, lineNumber, $"expected {columns} fields ({header}), found {fields.Count}");
            for (var f = 0; f < Math.Min(fields.Count, 5); f++)
                if (fields[f].Length == 0) throw Malformed(path, lineNumber, $"{Columns[f]} is empty");
            if (!TryParseTimestamp(fields[3], out var timestamp))
                throw Malformed(path, lineNumber, $"timestamp '{fields[3]}' is not an ISO-8601 UTC time such as 2024-05-01T12:00:00Z");
            double? value = null;
            if (fields.Count > 5 && fields[5].Length > 0)
            {
                if (!double.TryParse(fields[5], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
                    throw Malformed(path, lineNumber, $"value '{InputFile.Excerpt(fields[5])}' is not a number");
                value = v;
            }
            yield return new ExportedEvent(lineNumber, fields[0], fields[1], fields[2], timestamp, fields[4], value);
        }
    }

    private static FormatException Malformed(string path, int line, string problem) => new($"{path}:{line}: {problem}.");

    /// <summary>Parses an ISO-8601 timestamp that is UTC (a 'Z' or a +00:00 offset).</summary>
    public static bool TryParseTimestamp(string text, out DateTimeOffset timestamp) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out timestamp)
        && timestamp.Offset == TimeSpan.Zero
        && (text.EndsWith('Z') || text.EndsWith("+00:00", StringComparison.Ordinal));

    internal static string Quote(string field)
    {
        ArgumentNullException.ThrowIfNull(field);
        if (field.AsSpan().IndexOfAny(",\"\r\n") < 0) return field;
        return "\"" + field.Replace("\"", "\"\"") + "\"";
    }
}

/// <summary>One event of an export file and the line its record starts on.</summary>
public sealed record ExportedEvent(int Line, string UserId, string ItemId, string EventType, DateTimeOffset Timestamp, string EventId, double? Value);
