using System.CommandLine;
using System.Text;
using System.Text.Json;

namespace Recommender.Cli;

/// <summary>
/// recommender change-items: a file of JSON lines, each an item's id and the fields to change (a merge patch, as PATCH
/// /items takes one: a null removes text, tags, availableFrom or expiresAt), sent to the cluster in batches: the
/// sold-out items hidden, a sale's window moved, without sending whole items. Changing an item again as its line says
/// leaves it so, so running the command again after a failure finishes the job. A line may carry "ifVersion", the
/// item's version as an export or an answer gave it: that item is changed only while still at it.
/// </summary>
internal static class ChangeItemsCommand
{
    /// <summary>The API's limit of changes a request (PATCH /items).</summary>
    public const int MaxBatch = 500;

    /// <summary>How many of the ids not in the catalogue, and of the refusals, are named.</summary>
    private const int Named = 20;

    public static Command Create()
    {
        var file = new Option<string>("--file")
        {
            Description = "The changes: one JSON object a line, the item's id and the fields to change (title, text, tags, hidden, availableFrom, expiresAt, embedding; a null removes text, tags or a window end), "
                + "and optionally ifVersion, the item's version as read: then it is changed only while still at it.",
            Required = true,
        };
        var upload = new UploadOptions("changes", MaxBatch, 120, " (a changed text is encoded while it waits)", keyRole: "A client API key (Recommender:ApiKeys:Client)");
        var command = new Command("change-items", "Change some fields of the items a file of JSON lines names (PATCH /items): each line an item's id and what to change; "
            + "the other fields are kept. Exits non-zero when a change is refused, or an item was written since the version its line names.") { file };
        upload.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            var path = parse.GetValue(file)!;
            long changed = 0;
            var missing = new List<string>();
            var refused = new List<string>();
            var changedSince = new List<string>();
            var lines = new Dictionary<string, int>(StringComparer.Ordinal);
            var exit = await upload.RunAsync(parse, "items", path, () => Read(path, lines), rows => (rows, rows.Count),
                answer =>
                {
                    changed += answer.GetProperty("changed").GetInt64();
                    foreach (var item in answer.GetProperty("items").EnumerateArray())
                    {
                        var id = item.GetProperty("id").GetString()!;
                        switch (item.GetProperty("outcome").GetString())
                        {
                            case "notInCatalogue": missing.Add(id); break;
                            case "refused": refused.Add($"{path}:{lines[id]}: {item.GetProperty("reason").GetString()}"); break;
                            case "changedSince": changedSince.Add($"{path}:{lines[id]}: item '{id}' is at version {item.GetProperty("version").GetString()}"); break;
                        }
                    }
                },
                () => $"{changed:N0} items changed, {missing.Count:N0} not in the catalogue, {refused.Count:N0} refused"
                    + (changedSince.Count > 0 ? $", {changedSince.Count:N0} written since the version named." : "."), cancellation, HttpMethod.Patch);
            var error = parse.InvocationConfiguration.Error;
            if (missing.Count > 0)
                await error.WriteLineAsync($"Not in the catalogue (nothing written for them): {string.Join(", ", missing.Take(Named))}{(missing.Count > Named ? $" and {missing.Count - Named:N0} more" : "")}.");
            foreach (var line in refused.Take(Named)) await error.WriteLineAsync($"refused: {line}");
            if (refused.Count > Named) await error.WriteLineAsync($"… and {refused.Count - Named:N0} more refused.");
            foreach (var line in changedSince.Take(Named)) await error.WriteLineAsync($"written since (nothing written; read it again): {line}");
            if (changedSince.Count > Named) await error.WriteLineAsync($"… and {changedSince.Count - Named:N0} more written since.");
            return exit != 0 ? exit : refused.Count > 0 || changedSince.Count > 0 ? 1 : 0;
        });
        return command;
    }

    /// <summary>
    /// Every change of the file as compact JSON, its line kept by id (a malformed line, or an id twice, is refused before
    /// a request is sent); the API checks the fields.
    /// </summary>
    public static List<UploadRow> Read(string path, Dictionary<string, int> lines)
    {
        var rows = new List<UploadRow>();
        foreach (var line in Model.Data.CatalogueFile.Read(path))
        {
            var json = JsonSerializer.Serialize(line.Item);
            if (Encoding.UTF8.GetByteCount(json) > BatchUpload.MaxBatchBytes - 2)
                throw new FormatException($"{path}:{line.Line}: the change's JSON passes the API's 1 MiB request limit on its own.");
            rows.Add(new UploadRow(line.Line, json));
            lines[line.Id] = line.Line;
        }
        if (rows.Count == 0) throw new FormatException($"{path} holds no changes.");
        return rows;
    }
}
