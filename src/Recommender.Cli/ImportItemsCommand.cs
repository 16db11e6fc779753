using System.CommandLine;
using System.Text;
using System.Text.Json;

namespace Recommender.Cli;

/// <summary>
/// recommender import-items: a catalogue file of JSON lines, each an item as POST /items takes it ({"id", "title",
/// "text", "tags", "hidden", "availableFrom", "expiresAt", "embedding"}), posted to the cluster in batches. A write
/// replaces the item, so running the command again, after a failure or with a newer file, leaves each item as its
/// line says. With --prune it then deletes the items the cluster holds that the file does not (a full catalogue
/// feed: what left it is deleted), all of them or those whose id starts with --prune-prefix.
/// </summary>
internal static class ImportItemsCommand
{
    /// <summary>The API's limit of items a request (POST /items).</summary>
    public const int MaxBatch = 500;

    public static Command Create()
    {
        var file = new Option<string>("--file") { Description = "The items: one JSON object a line, as POST /items takes each (id and title required; text, tags, hidden, availableFrom, expiresAt, embedding).", Required = true };
        var prune = new Option<bool>("--prune")
        {
            Description = "Then delete the items the cluster holds that the file does not (their details erased, out of every list): the catalogue becomes the file's. Needs an admin key.",
        };
        var prefix = new Option<string?>("--prune-prefix") { Description = "With --prune: only items whose id starts with this (one feed's items, where several feeds write the catalogue)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "With --prune: send nothing; say how many items the file holds and which items --prune would delete." };
        var upload = new UploadOptions("items", MaxBatch, 120, " (texts are encoded while it waits)", keyRole: "A client API key (Recommender:ApiKeys:Client; an admin key with --prune)");
        var command = new Command("import-items", "Post a catalogue file of JSON lines to the cluster (POST /items); running it again leaves each item as its line says. "
            + "With --prune, then delete the items the cluster holds that the file does not.") { file, prune, prefix, dryRun };
        upload.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            var path = parse.GetValue(file)!;
            var (pruning, only, dry) = (parse.GetValue(prune), parse.GetValue(prefix), parse.GetValue(dryRun));
            var (connection, rows, refused) = upload.Open(parse, () =>
            {
                if (!pruning && (dry || only is not null)) throw new ArgumentException($"{(dry ? "--dry-run" : "--prune-prefix")} goes with --prune.");
                if (only is { Length: 0 }) throw new ArgumentException("--prune-prefix must not be empty (leave it out to prune the whole catalogue).");
                return Read(path);
            });
            if (connection is null) return refused;
            using var api = connection;
            var prunes = new CataloguePrune(api, parse.GetValue(upload.Attempts), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            var ids = CatalogueIds(path);
            if (dry) return await prunes.RunAsync(path, ids, only, dryRun: true, cancellation);
            long written = 0;
            var exit = await upload.UploadAsync(parse, api, "items", path, (rows, rows.Count),
                answer => written += answer.GetProperty("count").GetInt64(), () => $"{written:N0} items written.", cancellation);
            // Only once every item of the file is written: a failed upload deletes nothing.
            return exit != 0 || !pruning ? exit : await prunes.RunAsync(path, ids, only, dryRun: false, cancellation);
        });
        return command;
    }

    /// <summary>The ids of the catalogue file's items (read before, so the file is known to be sound).</summary>
    private static HashSet<string> CatalogueIds(string path) => Model.Data.CatalogueFile.Read(path).Select(line => line.Id).ToHashSet(StringComparer.Ordinal);

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
