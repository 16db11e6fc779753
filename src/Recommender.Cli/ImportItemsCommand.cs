using System.CommandLine;
using System.Text;
using System.Text.Json;

namespace Recommender.Cli;

/// <summary>
/// recommender import-items: a catalogue file of JSON lines, each an item as POST /items takes it ({"id", "title",
/// "text", "tags", "hidden", "availableFrom", "expiresAt", "embedding"}), posted to the cluster in batches. A write
/// replaces the item, so running the command again, after a failure or with a newer file, leaves each item as its
/// line says.
/// </summary>
internal static class ImportItemsCommand
{
    /// <summary>The API's limit of items a request (POST /items).</summary>
    public const int MaxBatch = 500;

    public static Command Create()
    {
        var file = new Option<string>("--file") { Description = "The items: one JSON object a line, as POST /items takes each (id and title required; text, tags, hidden, availableFrom, expiresAt, embedding).", Required = true };
        var upload = new UploadOptions("items", MaxBatch, 120, " (texts are encoded while it waits)");
        var command = new Command("import-items", "Post a catalogue file of JSON lines to the cluster (POST /items); running it again leaves each item as its line says.") { file };
        upload.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            var path = parse.GetValue(file)!;
            long written = 0;
            return await upload.RunAsync(parse, "items", path, () => Read(path), rows => (rows, rows.Count),
                answer => written += answer.GetProperty("count").GetInt64(), () => $"{written:N0} items written.", cancellation);
        });
        return command;
    }

    /// <summary>
    /// Every item of the catalogue file as compact JSON (a malformed line is refused, naming file and line, before a
    /// request is sent); the API checks the fields.
    /// </summary>
    public static List<UploadRow> Read(string path)
    {
        var rows = new List<UploadRow>();
        foreach (var line in Model.Data.CatalogueFile.Read(path))
        {
            var json = JsonSerializer.Serialize(line.Item);
            if (Encoding.UTF8.GetByteCount(json) > BatchUpload.MaxBatchBytes - 2)
                throw new FormatException($"{path}:{line.Line}: the item's JSON passes the API's 1 MiB request limit on its own.");
            rows.Add(new UploadRow(line.Line, json));
        }
        if (rows.Count == 0) throw new FormatException($"{path} holds no items.");
        return rows;
    }
}
