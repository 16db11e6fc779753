using System.CommandLine;
using System.Text;
using System.Text.Json;
using Recommender.Model.Data;

namespace Recommender.Cli;

/// <summary>
/// recommender delete-items: deletes the items a file names from the cluster's catalogue (POST /items/delete), in
/// batches. The file is one id a line, or a catalogue file of JSON lines (what export-items writes and import-items
/// reads), whose items' ids are taken. A deletion of an item that is gone already answers false, so running the
/// command again after a failure finishes the job.
/// </summary>
internal static class DeleteItemsCommand
{
    /// <summary>The API's limit of ids a request (POST /items/delete).</summary>
    public const int MaxBatch = 1000;

    public static Command Create()
    {
        var file = new Option<string>("--file")
        {
            Description = "The items to delete: one id a line (blank lines are skipped), or a catalogue file of JSON lines whose items' ids are taken.",
            Required = true,
        };
        var upload = new UploadOptions("ids", MaxBatch, 120, keyRole: "An admin API key (Recommender:ApiKeys:Admin)");
        var command = new Command("delete-items", "Delete the items a file names from the cluster's catalogue (POST /items/delete): their details are erased and they leave every list; histories keep their ids.") { file };
        upload.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            var path = parse.GetValue(file)!;
            long sent = 0, deleted = 0;
            return await upload.RunAsync(parse, "items/delete", path, () => Read(path), rows => (rows, rows.Count),
                answer =>
                {
                    sent += answer.GetProperty("count").GetInt64();
                    deleted += answer.GetProperty("deleted").GetInt64();
                },
                () => $"{deleted:N0} items deleted, {sent - deleted:N0} not in the catalogue.", cancellation);
        });
        return command;
    }

    /// <summary>
    /// Each id of the file as a JSON string, with its line; a repeated id is refused before a request is sent (the API
    /// checks each id, and names a bad one by its line).
    /// </summary>
    public static List<UploadRow> Read(string path)
    {
        var ids = JsonLinesFile.LooksLikeJsonLines(path)
            ? CatalogueFile.Read(path).Select(line => (line.Line, line.Id))
            : PlainIds(path);
        var rows = new List<UploadRow>();
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (line, id) in ids)
        {
            if (!firstLine.TryAdd(id, line)) throw new FormatException($"{path}:{line}: item '{id}' is on line {firstLine[id]} too.");
            rows.Add(new UploadRow(line, JsonSerializer.Serialize(id)));
        }
        if (rows.Count == 0) throw new FormatException($"{path} names no items.");
        return rows;
    }

    /// <summary>One id a line, as written (a trailing carriage return dropped); blank lines skipped.</summary>
    private static IEnumerable<(int Line, string Id)> PlainIds(string path)
    {
        InputFile.Require(path, "File");
        using var reader = new StreamReader(path, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true);
        for (var number = 1; ; number++)
        {
            string? line;
            try
            {
                line = reader.ReadLine();
            }
            catch (DecoderFallbackException)
            {
                throw new FormatException($"{path}:{number}: not valid UTF-8.");
            }
            if (line is null) yield break;
            if (!string.IsNullOrWhiteSpace(line)) yield return (number, line);
        }
    }
}
