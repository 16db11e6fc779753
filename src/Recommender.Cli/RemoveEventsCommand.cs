using System.CommandLine;
using System.Text;
using System.Text.Json;

namespace Recommender.Cli;

/// <summary>
/// recommender remove-events: a file of JSON lines, each a user's id and an item's (optionally with a type) or an
/// event's, sent to the cluster in batches (POST /events/delete): a day's refunds, a support queue's "I did not watch
/// this". Taking back what is gone already removes nothing, so running the command again after a failure finishes the job.
/// </summary>
internal static class RemoveEventsCommand
{
    /// <summary>The API's limit of take-backs a request (POST /events/delete).</summary>
    public const int MaxBatch = 1000;

    public static Command Create()
    {
        var file = new Option<string>("--file")
        {
            Description = "The take-backs: one JSON object a line, a userId and either an itemId (every event of the item, or of one type with type) or an eventId.",
            Required = true,
        };
        var upload = new UploadOptions("take-backs", MaxBatch, 120);
        var command = new Command("remove-events", "Take back users' events a file of JSON lines names (POST /events/delete): they leave the histories, the export "
            + "and the popular counts, and the same events sent again are repeats.") { file };
        upload.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            var path = parse.GetValue(file)!;
            long sent = 0, removed = 0;
            return await upload.RunAsync(parse, "events/delete", path, () => Read(path), rows => (rows, rows.Count),
                answer =>
                {
                    sent += answer.GetProperty("count").GetInt64();
                    removed += answer.GetProperty("removedEvents").GetInt64();
                },
                () => $"{sent:N0} take-backs sent, {removed:N0} events removed.", cancellation);
        });
        return command;
    }

    /// <summary>Every take-back of the file as compact JSON (a malformed line is refused before a request is sent); the API checks the fields.</summary>
    public static List<UploadRow> Read(string path)
    {
        var rows = new List<UploadRow>();
        foreach (var line in Model.Data.JsonLinesFile.Read(path, "a take-back"))
        {
            var json = JsonSerializer.Serialize(line.Value);
            if (Encoding.UTF8.GetByteCount(json) > BatchUpload.MaxBatchBytes - 2)
                throw new FormatException($"{path}:{line.Line}: the take-back's JSON passes the API's 1 MiB request limit on its own.");
            rows.Add(new UploadRow(line.Line, json));
        }
        if (rows.Count == 0) throw new FormatException($"{path} holds no take-backs.");
        return rows;
    }
}
