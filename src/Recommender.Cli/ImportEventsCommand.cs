using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Recommender.Model.Data;

namespace Recommender.Cli;

/// <summary>
/// recommender import-events: an event-export CSV (what export-events writes: a history kept elsewhere, another
/// deployment's, or a warehouse's in that form) posted to the cluster in batches, each event under its own id, so that
/// running the command again, after a failure or on purpose, stores every event once.
/// </summary>
internal static class ImportEventsCommand
{
    /// <summary>The API's limit of events a request (POST /events).</summary>
    public const int MaxBatch = 1000;

    public static Command Create()
    {
        var file = new Option<string>("--file") { Description = $"The events: an event-export CSV ({EventExportFormat.Header}), as export-events writes it.", Required = true };
        var upload = new UploadOptions("events", MaxBatch, 60);
        var command = new Command("import-events", "Post an event-export CSV's events to the cluster (POST /events); running it again stores each event once.") { file };
        upload.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            var path = parse.GetValue(file)!;
            long accepted = 0, duplicates = 0, pending = 0;
            return await upload.RunAsync(parse, "events", path,
                // The whole file is read once before anything is sent, so that a malformed line stores nothing.
                () => EventExportFormat.Read(path).Count() is > 0 and var count ? count : throw new FormatException($"{path} holds no events."),
                count => (EventExportFormat.Read(path).Select(Row), count),
                answer =>
                {
                    accepted += answer.GetProperty("accepted").GetInt64();
                    duplicates += answer.GetProperty("duplicates").GetInt64();
                    pending += answer.GetProperty("pendingUsers").GetInt64();
                },
                () => $"{accepted:N0} stored, {duplicates:N0} already there" +
                    (pending > 0 ? $"; {pending:N0} user writes were left to the event journal, which writes them (answered 202)." : "."),
                cancellation);
        });
        return command;
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
