using System.CommandLine;
using System.Text.Json.Nodes;
using Recommender.Model.Data;
using Recommender.Model.Onnx;
using Recommender.Model.Sasrec;
using Spectre.Console;

namespace Recommender.Cli;

/// <summary>recommender export: a trained SASRec checkpoint → a serving package (encoder.onnx, item vectors, manifest).</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string[]>("--checkpoint")
        {
            Description = "Checkpoint written by the trainer; give it more than once to export an ensemble whose score is the sum of the models' scores.",
            Required = true, AllowMultipleArgumentsPerToken = true,
        };
        var outDir = new Option<string>("--out") { Description = "Directory to write the package into.", Required = true };
        var version = new Option<string>("--version") { Description = "Package version name (letters, digits, '.', '_', '-').", Required = true };
        var itemIds = new Option<string?>("--item-ids") { Description = "External item ids of a model trained on dense ids: one per line (line i names dense item i), or the items.tsv written by split (default: the dense ids themselves)." };

        var command = new Command("export", "Export a SASRec checkpoint to an ONNX model package.") { checkpoint, outDir, version, itemIds };
        command.SetAction(parse => CommandErrors.Run(parse, console =>
        {
            var paths = parse.GetValue(checkpoint)!;
            CommandErrors.CheckDirectoryTarget(parse.GetValue(outDir)!, "--out");
            var models = new List<SasRecModel>();
            foreach (var path in paths)
            {
                if (Directory.Exists(path)) throw new IOException($"Checkpoint '{path}' is a directory; give the checkpoint file (e.g. {path}/best.model).");
                if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
                models.Add(SasRecModel.Load(path));
            }
            var ids = parse.GetValue(itemIds) is { } idPath ? ItemIdFile.Read(idPath, models[0].Config.ItemCount, "--item-ids") : SequenceDataset.IdentityVocabulary(models[0].Config.ItemCount);
            var training = paths.Length == 1
                ? new JsonObject { ["checkpoint"] = Path.GetFileName(paths[0]) }
                : new JsonObject { ["ensemble"] = new JsonArray(paths.Select(p => (JsonNode)Path.GetFullPath(p)).ToArray()) };
            var package = SasRecEnsembleExporter.Export(models, ids, parse.GetValue(version)!, training, metrics: null);
            package.Save(parse.GetValue(outDir)!);
            var m = package.Manifest;
            console.WriteLine($"wrote package '{m.Version}' ({models.Count} model{(models.Count == 1 ? "" : "s")}, {m.ItemIds.Count} items, dimension {m.Dimension}, max length {m.MaxLength}) to {parse.GetValue(outDir)}");
            return 0;
        }));
        return command;
    }
}
