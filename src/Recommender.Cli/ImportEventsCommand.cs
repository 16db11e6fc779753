using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Recommender.Model.Data;

namespace Recommender.Cli;

/// <summary>
/// recommender import-events: a history kept elsewhere (another deployment's export, a warehouse's, an application's
/// log) posted to the cluster in batches: an event-export CSV, as export-events writes it, or JSON lines, each an event
/// as POST /events takes it. Every event has an id or a timestamp (from which the API derives its id), so that running
/// the command again, after a failure or on purpose and however it is batched, stores every event once.
/// </summary>
internal static class ImportEventsCommand
{
    /// <summary>The API's limit of events a request (POST /events).</summary>
    public const int MaxBatch = 1000;

    public static Command Create()
    {
        var file = new Option<string>("--file")
        {
            Description = $"The events: an event-export CSV ({EventExportFormat.Header}), as export-events writes it, or JSON lines, each an event object as POST /events takes it with an eventId or a timestamp (told apart by the first character).",
            Required = true,
        };
        var acceptUnknown = new Option<bool>("--accept-unknown-items")
        {
            Description = "Store events naming items not in the catalogue (items deleted since, or never loaded) rather than refuse their batch; the summary counts those items.",
        };
        var upload = new UploadOptions("events", MaxBatch, 60);
        var command = new Command("import-events", "Post a file of events (an event-export CSV or JSON lines) to the cluster (POST /events); running it again stores each event once.") { file, acceptUnknown };
        upload.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            var path = parse.GetValue(file)!;
            long accepted = 0, duplicates = 0, pending = 0;
            var notInCatalogue = new HashSet<string>(StringComparer.Ordinal);
            return await upload.RunAsync(parse, parse.GetValue(acceptUnknown) ? "events?unknownItems=accept" : "events", path,
                // The whole file is read once before anything is sent, so that a malformed line stores nothing.
                () =>
                {
                    var json = JsonLinesFile.LooksLikeJsonLines(path);
                    var count = json ? JsonLinesFile.Read(path, "an event").Count(l => Identified(path, l)) : EventExportFormat.Read(path).Count();
                    return count > 0 ? (Json: json, Count: count) : throw new FormatException($"{path} holds no events.");
                },
                file => (file.Json ? JsonLinesFile.Read(path, "an event").Select(l => new UploadRow(l.Line, JsonSerializer.Serialize(l.Value)))
                    : EventExportFormat.Read(path).Select(Row), file.Count),
                answer =>
                {
                    accepted += answer.GetProperty("accepted").GetInt64();
                    duplicates += answer.GetProperty("duplicates").GetInt64();
                    pending += answer.GetProperty("pendingUsers").GetInt64();
                    if (answer.TryGetProperty("notInCatalogue", out var unknown))
                        foreach (var id in unknown.EnumerateArray()) notInCatalogue.Add(id.GetString()!);
                },
                () => $"{accepted:N0} stored, {duplicates:N0} already there" +
                    (pending > 0 ? $"; {pending:N0} user writes were left to the event journal, which writes them (answered 202)" : "") +
                    (notInCatalogue.Count > 0 ? $"; {notInCatalogue.Count:N0} of their items are not in the catalogue." : "."),
                cancellation);
        });
        return command;
    }

    /// <summary>
    /// True for an event of a JSON-lines file with an "eventId" or a "timestamp"; one with neither is refused, naming its
    /// line: the API would stamp it with the time it arrives, and a second run would store it again.
    /// </summary>
    private static bool Identified(string path, JsonLine line)
    {
        if (line.Value.TryGetProperty("eventId", out var id) && id.ValueKind != JsonValueKind.Null) return true;
        if (line.Value.TryGetProperty("timestamp", out var at) && at.ValueKind != JsonValueKind.Null) return true;
        throw new FormatException($"{path}:{line.Line}: the event has neither an \"eventId\" nor a \"timestamp\"; give it one, so that the import can be run again without storing it twice.");
    }

    /// <summary>The event as POST /events takes it: every field of the export, the value only when it has one.</summary>
    private static UploadRow Row(ExportedEvent e)
    {
        var fields = new Dictionary<string, object>
        {
            ["userId"] = e.UserId,
            ["itemId"] = e.ItemId,
            ["type"] = e.EventType,
            ["timestamp"] = e.Timestamp.UtcDateTime.ToString(EventExportFormat.TimestampFormat, CultureInfo.InvariantCulture),
            ["eventId"] = e.EventId,
        };
        if (e.Value is { } value) fields["value"] = value;
        return new UploadRow(e.Line, JsonSerializer.Serialize(fields));
    }
}
