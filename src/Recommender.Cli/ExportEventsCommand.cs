using System.CommandLine;
using Recommender.Model.Data;

namespace Recommender.Cli;

/// <summary>
/// recommender export-events: downloads the cluster's whole event history (GET /events/export) into a CSV that
/// `recommender train --format event-export` and `recommender import-events` read.
/// </summary>
internal static class ExportEventsCommand
{
    public static Command Create() => DownloadCommand.Create("export-events", "Download the cluster's event history as an event-export CSV for training.",
        "events/export", "CSV file to write (event-export format).", "events",
        header => header is EventExportFormat.Header or EventExportFormat.HeaderWithoutValue ? null : $"the export does not start with the header '{EventExportFormat.Header}'.",
        countsFirstLine: false);
}
