using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Recommender.Model.Baselines;
using Recommender.Model.Data;
using Recommender.Model.Evaluation;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;
using Spectre.Console;

[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Recommender.Model.Tests")]
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Recommender.Cluster.Tests")]

namespace Recommender.Cli;

/// <summary>
/// recommender evaluate: leave-one-out metrics of a model package, run through ONNX Runtime exactly as served,
/// optionally beside the most-popular and Markov baselines on the same cases.
/// </summary>
internal static class EvaluateCommand
{
    private static readonly int[] Cutoffs = [1, 5, 10, 20];
    private static readonly int[] NdcgCutoffs = [10, 20];

    public static Command Create()
    {
        var package = new Option<string>("--package") { Description = "Model package directory (manifest.json, encoder.onnx, item_embeddings.bin).", Required = true };
        var input = new Option<string>("--input") { Description = "Histories: one chronological sequence of dense item ids per line.", Required = true };
        var output = new Option<string>("--output") { Description = "Held-out next item for each line of --input.", Required = true };
        var protocol = new Option<string>("--protocol") { Description = "full: rank all items, history removed; sampled: rank against 100 random unseen items.", DefaultValueFactory = _ => "full" };
        protocol.AcceptOnlyFromAmong("full", "sampled");
        var baselines = new Option<bool>("--baselines") { Description = "Also evaluate the most-popular and first-order Markov baselines." };
        var train = new Option<string?>("--train") { Description = "Sequences the baselines learn from (default: the --input histories)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the sampled protocol.", DefaultValueFactory = _ => 42 };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var ranks = new Option<string?>("--ranks") { Description = "Also write each case's 0-based rank of the held-out item to this CSV file: a row per input line, a column per model." };

        var command = new Command("evaluate", "Leave-one-out HR@K, NDCG@K and MRR of a model package through ONNX Runtime.")
        {
            package, input, output, protocol, baselines, train, seed, threads, ranks,
        };
        command.SetAction(parse => CommandErrors.Run(parse, console =>
        {
            if (parse.GetValue(train) is not null && !parse.GetValue(baselines))
                throw new ArgumentException("--train is what the baselines learn from; it needs --baselines.");
            var threadCount = CommandErrors.ThreadCount(parse, threads);
            var inputPath = parse.GetValue(input)!;
            var outputPath = parse.GetValue(output)!;
            var rankingProtocol = parse.GetValue(protocol) == "sampled" ? RankingProtocol.Sampled : RankingProtocol.Full;
            var ranksPath = parse.GetValue(ranks);
            if (ranksPath is not null) CheckWritable(ranksPath);
            var loaded = ModelPackage.Load(parse.GetValue(package)!);
            var cases = CommandErrors.ReadCases(inputPath, outputPath);
            CheckVocabulary(cases, loaded.Manifest.ItemCount, inputPath, outputPath);

            var scorers = new List<INextItemScorer>();
            using var encoder = new OnnxEncoder(loaded, new OnnxThreading(threadCount));
            scorers.Add(new EmbeddingScorer($"{loaded.Manifest.Kind} ({loaded.Manifest.Version})", encoder.Encode, loaded.ItemEmbeddings, loaded.Manifest.Dimension));
            if (parse.GetValue(baselines))
            {
                var trainPath = parse.GetValue(train);
                var sequences = trainPath is null ? cases.Select(c => c.History).ToList() : SequenceFile.ReadSequences(trainPath);
                var trainData = new SequenceDataset(CheckTrain(sequences, loaded.Manifest.ItemCount, trainPath ?? inputPath), SequenceDataset.IdentityVocabulary(loaded.Manifest.ItemCount));
                scorers.Add(new MostPopularScorer(trainData));
                scorers.Add(new MarkovScorer(trainData));
            }

            var table = new Table().Title($"{cases.Count} cases, {(rankingProtocol == RankingProtocol.Full ? "full ranking, seen items removed" : $"{RankingEvaluator.SampledNegatives} sampled negatives, seed {parse.GetValue(seed)}")}");
            table.AddColumn("model");
            foreach (var k in Cutoffs) table.AddColumn($"HR@{k}");
            foreach (var k in NdcgCutoffs) table.AddColumn($"NDCG@{k}");
            table.AddColumn("MRR");
            table.AddColumn("s");
            var ranksByScorer = new List<int[]>();
            foreach (var scorer in scorers)
            {
                var watch = Stopwatch.StartNew();
                var caseRanks = RankingEvaluator.Ranks(scorer, cases, rankingProtocol, parse.GetValue(seed));
                ranksByScorer.Add(caseRanks);
                var metrics = RankingMetrics.FromRanks(caseRanks, Cutoffs);
                var cells = new List<string> { Markup.Escape(scorer.Name) };
                cells.AddRange(Cutoffs.Select(k => Format(metrics.HitRate(k))));
                cells.AddRange(NdcgCutoffs.Select(k => Format(metrics.Ndcg(k))));
                cells.Add(Format(metrics.Mrr));
                cells.Add(watch.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture));
                table.AddRow(cells.ToArray());
            }
            console.Write(table);
            if (ranksPath is not null)
            {
                WriteRanks(ranksPath, scorers.Select(s => s.Name).ToList(), ranksByScorer);
                console.WriteLine($"wrote the ranks of {cases.Count} cases to {ranksPath}");
            }
            return 0;
        }));
        return command;
    }

    /// <summary>Fails before the evaluation, not after it, when the ranks file cannot be written.</summary>
    private static void CheckWritable(string path)
    {
        CommandErrors.CheckFileTarget(path, "--ranks");
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(directory)) throw new IOException($"--ranks '{path}' cannot be written: the directory '{directory}' does not exist.");
    }

    /// <summary>line (1-based, of --input), then one column of ranks per model, headed by its name.</summary>
    private static void WriteRanks(string path, IReadOnlyList<string> names, IReadOnlyList<int[]> ranks)
    {
        var temporary = path + ".tmp";
        using (var writer = new StreamWriter(temporary))
        {
            writer.WriteLine("line," + string.Join(',', names.Select(CsvField)));
            for (var i = 0; i < ranks[0].Length; i++)
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{i + 1},{string.Join(',', ranks.Select(r => r[i]))}"));
        }
        File.Move(temporary, path, overwrite: true);
    }

    private static string CsvField(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) < 0 ? value : '"' + value.Replace("\"", "\"\"") + '"';

    private static string Format(double value) => value.ToString("F4", CultureInfo.InvariantCulture);

    /// <summary>Names the first id that the package cannot encode or score, with its file and line.</summary>
    private static void CheckVocabulary(List<EvaluationCase> cases, int itemCount, string inputPath, string outputPath)
    {
        for (var i = 0; i < cases.Count; i++)
        {
            foreach (var item in cases[i].History)
                if (item > itemCount) throw new ArgumentException($"{inputPath}:{i + 1}: item {item} is outside the package's vocabulary 1..{itemCount}.");
            if (cases[i].Target > itemCount) throw new ArgumentException($"{outputPath}:{i + 1}: item {cases[i].Target} is outside the package's vocabulary 1..{itemCount}.");
        }
    }

    private static List<int[]> CheckTrain(List<int[]> sequences, int itemCount, string path)
    {
        for (var i = 0; i < sequences.Count; i++)
            foreach (var item in sequences[i])
                if (item > itemCount) throw new ArgumentException($"{path}:{i + 1}: item {item} is outside the package's vocabulary 1..{itemCount}.");
        return sequences;
    }
}
