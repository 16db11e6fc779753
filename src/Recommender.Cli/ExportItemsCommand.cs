using System.CommandLine;

namespace Recommender.Cli;

/// <summary>
/// recommender export-items: downloads the cluster's catalogue (GET /catalogue/export) as JSON lines, each an item as
/// POST /items takes it: what `recommender import-items` loads (into this cluster or another) and
/// `recommender encode-text --items` encodes for training.
/// </summary>
internal static class ExportItemsCommand
{
    public static Command Create() => DownloadCommand.Create("export-items", "Download the cluster's catalogue as JSON lines, as import-items and encode-text --items read them.",
        "catalogue/export", "JSON-lines file to write (one item a line).", "items",
        first => first is null || first.StartsWith('{') ? null : "the export is not JSON lines of item objects.",
        countsFirstLine: true);
}
