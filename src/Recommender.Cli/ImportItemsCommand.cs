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
    /// Every non-blank line as one compact JSON object holding a string id; anything else is refused, naming file and
    /// line, before a request is sent. The API checks the fields.
    /// </summary>
    public static List<UploadRow> Read(string path)
    {
        Model.Data.InputFile.Require(path, "--file");
        var rows = new List<UploadRow>();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        using var reader = new StreamReader(path, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true);
        var number = 0;
        try
        {
            while (reader.ReadLine() is { } line)
            {
                number++;
                if (string.IsNullOrWhiteSpace(line)) continue;
                JsonDocument document;
                try
                {
                    document = JsonDocument.Parse(line);
                }
                catch (JsonException e)
                {
                    throw new FormatException($"{path}:{number}: not a JSON object: {e.Message}");
                }
                using (document)
                {
                    if (document.RootElement.ValueKind != JsonValueKind.Object)
                        throw new FormatException($"{path}:{number}: an item must be a JSON object, not {document.RootElement.ValueKind.ToString().ToLowerInvariant()}.");
                    if (!document.RootElement.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String)
                        throw new FormatException($"{path}:{number}: the item has no \"id\" string.");
                    // Two lines of one item would be refused in one batch and race in two: the file must say which it means.
                    if (!ids.TryAdd(id.GetString()!, number))
                        throw new FormatException($"{path}:{number}: item '{id.GetString()}' is on line {ids[id.GetString()!]} too.");
                    var json = JsonSerializer.Serialize(document.RootElement);
                    if (Encoding.UTF8.GetByteCount(json) > BatchUpload.MaxBatchBytes - 2)
                        throw new FormatException($"{path}:{number}: the item's JSON passes the API's 1 MiB request limit on its own.");
                    rows.Add(new UploadRow(number, json));
                }
            }
        }
        catch (DecoderFallbackException)
        {
            throw new FormatException($"{path}:{number + 1}: not valid UTF-8.");
        }
        if (rows.Count == 0) throw new FormatException($"{path} holds no items.");
        return rows;
    }
}
