using System.CommandLine;
using System.Globalization;
using Recommender.Model.Data;
using Recommender.Model.Onnx;
using Recommender.Model.Sasrec;
using Spectre.Console;

namespace Recommender.Cli;

/// <summary>
/// recommender bench-inference: latency and throughput of an exported SASRec encoder in ONNX Runtime,
/// set against the model's FLOP count and the measured MatMul rate of this CPU.
/// </summary>
internal static class BenchmarkCommand
{
    private const int MaxRuns = 1_000_000;

    public static Command Create()
    {
        var items = new Option<int>("--items") { DefaultValueFactory = _ => 3416, Description = "Catalogue size." };
        var maxLength = new Option<int>("--max-length") { DefaultValueFactory = _ => 200, Description = "History length the encoder takes (the timed histories are full)." };
        var dimension = new Option<int>("--dimension") { DefaultValueFactory = _ => 64, Description = "Embedding and hidden width." };
        var blocks = new Option<int>("--blocks") { DefaultValueFactory = _ => 2, Description = "Transformer blocks." };
        var heads = new Option<int>("--heads") { DefaultValueFactory = _ => 1, Description = "Attention heads (must divide --dimension)." };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => 1, Description = "ONNX Runtime intra-op threads." };
        var runs = new Option<int>("--runs") { DefaultValueFactory = _ => 200, Description = "Timed batch-1 runs, 10 to 1,000,000 (batch 64 runs a tenth as many, at least 10)." };

        var command = new Command("bench-inference", "Time the SASRec ONNX encoder (random weights) against its FLOPs and this CPU's MatMul rate.")
        {
            items, maxLength, dimension, blocks, heads, threads, runs,
        };
        command.SetAction(parse => CommandErrors.Run(parse, console =>
        {
            var config = new SasRecConfig
            {
                ItemCount = parse.GetValue(items),
                MaxLength = parse.GetValue(maxLength),
                Dimension = parse.GetValue(dimension),
                FeedForwardDimension = parse.GetValue(dimension),
                Blocks = parse.GetValue(blocks),
                Heads = parse.GetValue(heads),
            };
            CommandErrors.InFlagTerms(config.Validate, new Dictionary<string, string>
            {
                [nameof(SasRecConfig.ItemCount)] = "--items",
                [nameof(SasRecConfig.MaxLength)] = "--max-length",
                [nameof(SasRecConfig.Dimension)] = "--dimension",
                [nameof(SasRecConfig.Blocks)] = "--blocks",
                [nameof(SasRecConfig.Heads)] = "--heads",
            });
            var threadCount = CommandErrors.ThreadCount(parse, threads);
            var runCount = parse.GetValue(runs);
            // At least 10 for a median and a 90th percentile; at most a million, whose timings fit in memory (8 MB).
            if (runCount is < 10 or > MaxRuns) throw new ArgumentException($"--runs {runCount} must be between 10 and {MaxRuns:N0}.");
            var package = SasRecExporter.Export(new SasRecModel(config, seed: 1), SequenceDataset.IdentityVocabulary(config.ItemCount), "bench", null, null);
            using var encoder = new OnnxEncoder(package, new OnnxThreading(threadCount));
            var random = new Random(2);
            var history = Enumerable.Range(0, config.MaxLength).Select(_ => random.Next(1, config.ItemCount + 1)).ToArray();

            var single = InferenceBenchmark.Measure(encoder, history, batch: 1, runs: runCount);
            var batched = InferenceBenchmark.Measure(encoder, history, batch: 64, runs: Math.Max(10, runCount / 10));
            var peak = InferenceBenchmark.MatMulGflops(threads: threadCount);
            var flops = InferenceBenchmark.ExportedGraphFlops(config);
            var full = InferenceBenchmark.FullForwardFlops(config);
            var perSecond = 64 / (batched.MedianMs / 1000);

            string F(double v, string format = "F2") => v.ToString(format, CultureInfo.InvariantCulture);
            var table = new Table().Title($"SASRec encoder: {config.ItemCount} items, L={config.MaxLength}, D={config.Dimension}, {config.Blocks} blocks, {config.Heads} head(s), {threadCount} thread(s)");
            table.AddColumn("measure");
            table.AddColumn("value");
            table.AddRow("MatMul 1024³ rate (ONNX Runtime)", $"{F(peak, "F1")} GFLOP/s");
            table.AddRow("FLOPs per sequence, exported graph", $"{F(flops / 1e6, "F1")} M (full forward {F(full / 1e6, "F1")} M)");
            table.AddRow($"batch 1, {config.MaxLength}-item history: median / p90", $"{F(single.MedianMs, "F3")} / {F(single.P90Ms, "F3")} ms");
            table.AddRow("batch 1: achieved rate", $"{F(flops / (single.MedianMs / 1000) / 1e9)} GFLOP/s ({F(flops / (single.MedianMs / 1000) / 1e9 / peak * 100, "F1")}% of MatMul)");
            table.AddRow("batch 64: median per batch", $"{F(batched.MedianMs, "F2")} ms");
            table.AddRow("batch 64: throughput", $"{F(perSecond, "F0")} sequences/s");
            table.AddRow("batch 64: achieved rate", $"{F(flops * perSecond / 1e9)} GFLOP/s ({F(flops * perSecond / 1e9 / peak * 100, "F1")}% of MatMul)");
            table.AddRow("bound at MatMul rate", $"{F(flops / (peak * 1e9) * 1000, "F3")} ms per sequence");
            console.Write(table);
            return 0;
        }));
        return command;
    }
}
