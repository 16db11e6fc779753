using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Recommender.Model.Data;
using Recommender.Model.Packaging;
using Recommender.Model.Text;
using Recommender.Model.Training;
using Spectre.Console;

namespace Recommender.Cli;

/// <summary>
/// recommender evaluate-cold-start: holds a seeded fraction of the items out of training, trains SASRec with id-only,
/// text-only and id+text item representations, and compares them (through ONNX Runtime) with popularity and random on
/// ordinary leave-one-out cases and on events whose item was never trained on.
/// </summary>
internal static class EvaluateColdStartCommand
{
    public static Command Create()
    {
        var ratings = new Option<string>("--ratings") { Description = "MovieLens ratings.csv (userId,movieId,rating,timestamp).", Required = true };
        var movies = new Option<string?>("--movies") { Description = "MovieLens movies.csv (movieId,title,genres): item text = title, genres and tags. Required unless --text-vectors is given." };
        var tags = new Option<string?>("--tags") { Description = "MovieLens tags.csv (userId,movieId,tag,timestamp), optional." };
        var textVectors = new Option<string?>("--text-vectors") { Description = "Precomputed item text vectors (the #text-vectors file format) instead of encoding --movies." };
        var textCache = new Option<string?>("--text-cache") { Description = "Where encoded --movies vectors are cached (default: <out>/text-vectors.tsv); reused when the texts are unchanged." };
        var output = new Option<string>("--out") { Description = "Work directory: checkpoints and the exported package of each model.", Required = true };
        var markdown = new Option<string?>("--markdown") { Description = "Also write the result table as Markdown to this file." };
        var holdout = new Option<double>("--holdout") { Description = "Fraction of items held out of training entirely.", DefaultValueFactory = _ => 0.1 };
        var seed = new Option<int>("--seed") { Description = "Seed of the held-out items, the models and the random baseline.", DefaultValueFactory = _ => 42 };
        var representations = new Option<string>("--representations") { Description = "Comma-separated item representations to train: id, text, id+text.", DefaultValueFactory = _ => "id,text,id+text" };
        var dimension = new Option<int>("--dim") { Description = "Embedding and hidden width.", DefaultValueFactory = _ => 64 };
        var maxLength = new Option<int>("--max-length") { Description = "Most recent items the model sees.", DefaultValueFactory = _ => 200 };
        var blocks = new Option<int>("--blocks") { Description = "Transformer blocks.", DefaultValueFactory = _ => 2 };
        var heads = new Option<int>("--heads") { Description = "Attention heads.", DefaultValueFactory = _ => 1 };
        var dropout = new Option<float>("--dropout") { Description = "Dropout rate.", DefaultValueFactory = _ => 0.2f };
        var idDropout = new Option<float>("--id-dropout") { Description = "id+text model: chance per training step that an item's id row is left out (text alone), which teaches ranking new items.", DefaultValueFactory = _ => 0.5f };
        var loss = new Option<string>("--loss") { Description = "ce | bce | gbce.", DefaultValueFactory = _ => "ce" };
        loss.AcceptOnlyFromAmong("ce", "bce", "gbce");
        var epochs = new Option<int>("--epochs") { Description = "Maximum epochs per model.", DefaultValueFactory = _ => 30 };
        var batch = new Option<int>("--batch-size") { Description = "Sequences per step.", DefaultValueFactory = _ => 128 };
        var learningRate = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 1e-3 };
        var patience = new Option<int>("--patience") { Description = "Validations without NDCG@10 improvement before a model stops.", DefaultValueFactory = _ => 5 };
        var timeLimit = new Option<double?>("--time-limit") { Description = "Minutes of training per model (stops after the epoch that passes it)." };
        var threads = new Option<int>("--threads") { Description = "Training, text-encoding and ONNX Runtime threads.", DefaultValueFactory = _ => Environment.ProcessorCount };

        var command = new Command("evaluate-cold-start", "Item cold-start evaluation: id, text and id+text SASRec models against popularity and random, with items held out of training.")
        {
            ratings, movies, tags, textVectors, textCache, output, markdown, holdout, seed, representations, dimension, maxLength, blocks, heads, dropout,
            idDropout, loss, epochs, batch, learningRate, patience, timeLimit, threads,
        };
        command.SetAction(parse => CommandErrors.Run(parse, console =>
        {
            var error = parse.InvocationConfiguration.Error;
            var work = parse.GetValue(output)!;
            var threadCount = CommandErrors.ThreadCount(parse, threads);
            var chosen = parse.GetValue(representations)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var r in chosen)
                if (!ItemRepresentations.All.Contains(r))
                    throw new ArgumentException($"--representations: '{r}' is not one of {string.Join(", ", ItemRepresentations.All)}.");
            if (chosen.Length == 0) throw new ArgumentException("--representations names no model to train.");
            var moviesPath = parse.GetValue(movies);
            var vectorsPath = parse.GetValue(textVectors);
            if (moviesPath is null && vectorsPath is null) throw new ArgumentException("Give the item text: --movies (with optional --tags) or --text-vectors.");
            if (moviesPath is not null && vectorsPath is not null) throw new ArgumentException("Give either --movies or --text-vectors, not both: they are two sources of the same item text.");
            CommandErrors.CheckDirectoryTarget(work, "--out");
            if (parse.GetValue(textCache) is { } cachePath) CommandErrors.CheckFileTarget(cachePath, "--text-cache");
            if (parse.GetValue(markdown) is { } markdownTarget) CommandErrors.CheckFileTarget(markdownTarget, "--markdown");

            var minutes = parse.GetValue(timeLimit);
            var options = new ColdStartOptions
            {
                Holdout = parse.GetValue(holdout),
                Seed = parse.GetValue(seed),
                Representations = chosen,
                Dimension = parse.GetValue(dimension),
                MaxLength = parse.GetValue(maxLength),
                Blocks = parse.GetValue(blocks),
                Heads = parse.GetValue(heads),
                Dropout = parse.GetValue(dropout),
                ItemIdDropout = parse.GetValue(idDropout),
                OnnxThreads = threadCount,
                WorkDirectory = work,
                Training = new TrainingOptions
                {
                    Epochs = parse.GetValue(epochs),
                    BatchSize = parse.GetValue(batch),
                    LearningRate = parse.GetValue(learningRate),
                    Loss = parse.GetValue(loss) switch { "bce" => LossKind.Bce, "gbce" => LossKind.Gbce, _ => LossKind.SoftmaxCrossEntropy },
                    Seed = parse.GetValue(seed),
                    Threads = threadCount,
                    Patience = parse.GetValue(patience),
                    TimeLimit = CommandErrors.Minutes(minutes, "--time-limit"),
                },
            };
            // Checked before the text is encoded and the data split, which take minutes.
            CommandErrors.InFlagTerms(options.Validate, new Dictionary<string, string>
            {
                [nameof(ColdStartOptions.Holdout)] = "--holdout",
                [nameof(ColdStartOptions.Dimension)] = "--dim",
                [nameof(ColdStartOptions.MaxLength)] = "--max-length",
                [nameof(ColdStartOptions.Blocks)] = "--blocks",
                [nameof(ColdStartOptions.Heads)] = "--heads",
                [nameof(ColdStartOptions.Dropout)] = "--dropout",
                [nameof(ColdStartOptions.ItemIdDropout)] = "--id-dropout",
                [nameof(TrainingOptions.Epochs)] = "--epochs",
                [nameof(TrainingOptions.LearningRate)] = "--lr",
                [nameof(TrainingOptions.Patience)] = "--patience",
                [nameof(TrainingOptions.Threads)] = "--threads",
            });
            var data = InteractionLoader.Load(parse.GetValue(ratings)!, InteractionFormat.MovieLensCsv);
            TextVectors? text = vectorsPath is null ? null : TextVectorFile.Read(vectorsPath);
            // The split needs only which items have text, so a hold-out that leaves no cases fails before any encoding.
            var itemsWithText = (text?.Vectors.Keys ?? MovieLensText.Compose(moviesPath!, parse.GetValue(tags)).Keys).ToHashSet(StringComparer.Ordinal);
            var split = ColdStartSplit.Create(data, itemsWithText, parse.GetValue(holdout), parse.GetValue(seed));
            console.WriteLine($"{data.UserCount} users, {data.ItemCount} items: {split.HeldOutItemCount} held out, {split.ColdCases.Count} cold-start events, {split.Known.Test.Count} leave-one-out cases");
            // A score over no cases would print as 0 and read as a result.
            if (split.ColdCases.Count == 0 || split.Known.Test.Count == 0)
                throw new ArgumentException($"--holdout {parse.GetValue(holdout)} leaves {split.ColdCases.Count} cold-start events and {split.Known.Test.Count} leave-one-out cases: both are needed to compare the models. Hold out fewer items, or give more data.");
            if (text is null)
            {
                var cache = parse.GetValue(textCache) ?? Path.Combine(work, "text-vectors.tsv");
                var watch = Stopwatch.StartNew();
                (text, var fromCache) = MovieLensText.LoadOrEncode(moviesPath!, parse.GetValue(tags), cache, threadCount);
                console.WriteLine(fromCache
                    ? $"text vectors: {text.Vectors.Count} items read from the cache {cache}"
                    : $"text vectors: encoded {text.Vectors.Count} items with {text.Encoder} in {watch.Elapsed.TotalSeconds:F1} s "
                      + $"({(text.Vectors.Count / watch.Elapsed.TotalSeconds).ToString("F0", CultureInfo.InvariantCulture)} items/s, batches of {SentenceTextEncoder.BatchSize}, {threadCount} threads); cached in {cache}");
            }

            ColdStartReport report;
            try
            {
                report = ColdStartExperiment.Run(split, text, options, line => console.WriteLine(line));
            }
            catch (InvalidOperationException e)
            {
                error.WriteLine($"error: {CommandErrors.Message(e)}");
                return 1;
            }

            var table = new Table().Title($"{report.HeldOutItems} held-out items: {report.ColdStartCases} cold-start events; {report.LeaveOneOutCases} leave-one-out cases");
            foreach (var column in new[] { "model", "LOO HR@10", "LOO NDCG@10", "cold HR@10", "cold NDCG@10", "train s" }) table.AddColumn(column);
            foreach (var r in report.Rows)
                table.AddRow(Markup.Escape(r.Model), F(r.LeaveOneOut.HitRate(10)), F(r.LeaveOneOut.Ndcg(10)), F(r.ColdStart.HitRate(10)), F(r.ColdStart.Ndcg(10)),
                    r.TrainSeconds > 0 ? r.TrainSeconds.ToString("F0", CultureInfo.InvariantCulture) : "-");
            console.Write(table);
            var md = report.ToMarkdown();
            foreach (var line in md.Split('\n').Where(l => l.StartsWith("- ", StringComparison.Ordinal))) console.WriteLine(line.TrimEnd());
            if (parse.GetValue(markdown) is { } markdownPath)
            {
                var directory = Path.GetDirectoryName(Path.GetFullPath(markdownPath));
                if (directory is not null) Directory.CreateDirectory(directory);
                File.WriteAllText(markdownPath, md);
                console.WriteLine($"Markdown written to {markdownPath}");
            }
            return 0;
        }));
        return command;
    }

    private static string F(double value) => value.ToString("F4", CultureInfo.InvariantCulture);
}
