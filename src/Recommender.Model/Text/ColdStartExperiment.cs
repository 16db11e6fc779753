using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using System.Text;
using Recommender.Model.Evaluation;
using Recommender.Model.Nn;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;
using Recommender.Model.Sasrec;
using Recommender.Model.Training;

namespace Recommender.Model.Text;

/// <summary>Model shape and training of every model the cold-start experiment trains.</summary>
public sealed record ColdStartOptions
{
    public double Holdout { get; init; } = 0.1;

    public int Seed { get; init; } = 42;

    /// <summary>Item representations to train and compare ("id", "text", "id+text").</summary>
    public IReadOnlyList<string> Representations { get; init; } = ItemRepresentations.All;

    public int Dimension { get; init; } = 64;

    public int MaxLength { get; init; } = 200;

    public int Blocks { get; init; } = 2;

    public int Heads { get; init; } = 1;

    public float Dropout { get; init; } = 0.2f;

    /// <summary>Item id dropout of the id+text model (see <see cref="SasRecConfig.ItemIdDropout"/>).</summary>
    public float ItemIdDropout { get; init; }

    public TrainingOptions Training { get; init; } = new();

    /// <summary>ONNX Runtime intra-op threads for the evaluation.</summary>
    public int OnnxThreads { get; init; } = 1;

    /// <summary>Checkpoints and the exported package of each model go to {WorkDirectory}/{representation}.</summary>
    public required string WorkDirectory { get; init; }

    /// <summary>Fails before the first model trains, rather than after hours, on an option no model could use.</summary>
    public void Validate()
    {
        OptionRange.OpenFraction.Check(Holdout, nameof(Holdout));
        ModelLimits.CheckSize(Dimension, nameof(Dimension), ModelLimits.MaxDimension);
        ModelLimits.CheckSize(MaxLength, nameof(MaxLength), ModelLimits.MaxSequenceLength);
        ModelLimits.CheckSize(Blocks, nameof(Blocks), ModelLimits.MaxBlocks);
        ModelLimits.CheckSize(Heads, nameof(Heads), ModelLimits.MaxHeads);
        if (Dimension % Heads != 0) throw new ArgumentException($"Dimension {Dimension} must be a positive multiple of Heads {Heads}.");
        OptionRange.Rate.Check(Dropout, nameof(Dropout));
        // Checked even when no id+text model is trained: a NaN here is a mistake either way.
        OptionRange.Rate.Check(ItemIdDropout, nameof(ItemIdDropout));
        if (OnnxThreads <= 0) throw new ArgumentException($"{nameof(OnnxThreads)} is {OnnxThreads}; it must be positive.");
        ArgumentNullException.ThrowIfNull(Training);
        Training.Validate();
    }
}

/// <summary>One compared model: leave-one-out metrics on known items and metrics on events of held-out items.</summary>
public sealed record ColdStartRow(string Model, RankingMetrics LeaveOneOut, RankingMetrics ColdStart, double TrainSeconds, int? BestEpoch);

/// <summary>The outcome of <see cref="ColdStartExperiment.Run"/>, with its Markdown rendering.</summary>
public sealed record ColdStartReport(
    int Users, int KnownItems, int HeldOutItems, int LeaveOneOutCases, int ColdStartCases, ColdStartOptions Options, IReadOnlyList<ColdStartRow> Rows)
{
    public const string Popularity = "popularity";
    public const string Random = "random";

    public ColdStartRow? Row(string model) => Rows.FirstOrDefault(r => r.Model == model);

    /// <summary>Relative change of <paramref name="model"/>'s metric over <paramref name="baseline"/>'s, e.g. −0.013 for 1.3 % worse.</summary>
    public static double Relative(double model, double baseline) => baseline == 0 ? double.NaN : model / baseline - 1;

    public string ToMarkdown()
    {
        static string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        var o = Options;
        var md = new StringBuilder();
        md.AppendLine($"Item cold-start: {HeldOutItems} of {KnownItems + HeldOutItems} items ({o.Holdout.ToString(CultureInfo.InvariantCulture)}, seed {o.Seed}) held out of training; "
            + $"{Users} users. SASRec dim {o.Dimension}, max length {o.MaxLength}, {o.Blocks} blocks, {o.Heads} head(s), dropout {o.Dropout.ToString(CultureInfo.InvariantCulture)}, "
            + $"id+text item id dropout {o.ItemIdDropout.ToString(CultureInfo.InvariantCulture)}, loss {o.Training.Loss}, lr {o.Training.LearningRate.ToString(CultureInfo.InvariantCulture)}, batch {o.Training.BatchSize}, at most {o.Training.Epochs} epochs (best validation NDCG@10 kept).");
        md.AppendLine();
        md.AppendLine($"Leave-one-out: {LeaveOneOutCases} users' last known item, ranked among the {KnownItems} known items. "
            + $"Cold start: {ColdStartCases} events on a held-out item, ranked among all {KnownItems + HeldOutItems} items (held-out items scored from text alone through text_projection.onnx). "
            + "Full ranking, items already seen removed, ties counted against the target; models run through ONNX Runtime.");
        md.AppendLine();
        md.AppendLine("| model | LOO HR@10 | LOO NDCG@10 | cold HR@10 (= Recall@10) | cold NDCG@10 | train s | best epoch |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var r in Rows)
            md.AppendLine($"| {r.Model} | {F(r.LeaveOneOut.HitRate(10))} | {F(r.LeaveOneOut.Ndcg(10))} | {F(r.ColdStart.HitRate(10))} | {F(r.ColdStart.Ndcg(10))} | "
                + $"{(r.TrainSeconds > 0 ? r.TrainSeconds.ToString("F0", CultureInfo.InvariantCulture) : "–")} | {r.BestEpoch?.ToString(CultureInfo.InvariantCulture) ?? "–"} |");
        md.AppendLine();
        var id = Row(ItemRepresentations.Id);
        var both = Row(ItemRepresentations.IdAndText);
        var text = Row(ItemRepresentations.Text);
        var popularity = Row(Popularity);
        var random = Row(Random);
        if (id is not null && both is not null)
            md.AppendLine($"- id+text vs id, leave-one-out NDCG@10: {Percent(Relative(both.LeaveOneOut.Ndcg(10), id.LeaveOneOut.Ndcg(10)))}, HR@10: {Percent(Relative(both.LeaveOneOut.HitRate(10), id.LeaveOneOut.HitRate(10)))}.");
        foreach (var model in new[] { both, text }.OfType<ColdStartRow>())
        {
            if (popularity is not null)
                md.AppendLine($"- {model.Model} cold Recall@10 vs popularity: {Ratio(model.ColdStart.HitRate(10), popularity.ColdStart.HitRate(10))}.");
            if (random is not null)
                md.AppendLine($"- {model.Model} cold Recall@10 vs random: {Ratio(model.ColdStart.HitRate(10), random.ColdStart.HitRate(10))}.");
        }
        return md.ToString();

        static string Percent(double v) => double.IsNaN(v) ? "n/a" : (v * 100).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + " % relative";
        static string Ratio(double model, double baseline) => baseline == 0
            ? (model > 0 ? $"{F(model)} against 0 (the baseline never ranks a held-out item in the top 10)" : "both 0")
            : (model / baseline).ToString("F1", CultureInfo.InvariantCulture) + "x";
    }
}

/// <summary>
/// Trains one SASRec model per item representation on the known items of a <see cref="ColdStartSplit"/>, exports each
/// as a serving package, and scores it through ONNX Runtime on the leave-one-out and cold-start cases, beside the
/// popularity and random baselines on the same cases.
/// </summary>
public static class ColdStartExperiment
{
    private static readonly int[] Cutoffs = [10, 20];

    public static ColdStartReport Run(ColdStartSplit split, TextVectors text, ColdStartOptions options, Action<string>? log = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        foreach (var representation in options.Representations)
            if (!ItemRepresentations.All.Contains(representation))
                throw new ArgumentException($"Unknown item representation '{representation}' (expected one of {string.Join(", ", ItemRepresentations.All)}).");
        var known = split.Known;
        int k = split.KnownItemCount, h = split.HeldOutItemCount, catalogue = k + h;
        var warm = known.Test.Select(c => new ColdStartCase(c.History, c.Target, c.History)).ToArray();
        var cold = split.ColdCases;
        var heldOutText = text.ForItems(split.HeldOutItemIds, out var heldOutMissing);
        if (heldOutMissing > 0) throw new ArgumentException($"{heldOutMissing} held-out items have no text vector; only items with text can be held out.");
        var rows = new List<ColdStartRow>();

        foreach (var representation in options.Representations)
        {
            ct.ThrowIfCancellationRequested();
            var usesText = ItemRepresentations.UsesText(representation);
            var config = new SasRecConfig
            {
                ItemCount = k, MaxLength = options.MaxLength, Dimension = options.Dimension, Blocks = options.Blocks, Heads = options.Heads,
                FeedForwardDimension = options.Dimension, Dropout = options.Dropout, ItemRepresentation = representation,
                TextDimension = usesText ? text.Dimension : 0, TextEncoder = usesText ? text.Encoder : null, TextTemplate = usesText ? text.Template : null,
                ItemIdDropout = representation == ItemRepresentations.IdAndText ? options.ItemIdDropout : 0,
            };
            float[]? itemText = null;
            if (usesText)
            {
                itemText = text.ForItems(known.Train.ItemIds, out var missing);
                if (missing > 0) log?.Invoke($"{representation}: {missing} of {k} known items have no text vector (their text part is zero).");
            }
            var directory = Path.Combine(options.WorkDirectory, representation.Replace('+', '-'));
            var model = new SasRecModel(config, options.Seed, itemText);
            var watch = Stopwatch.StartNew();
            var progress = new Progress(representation, log);
            var result = new SasRecTrainer(model, options.Training).Train(known.Train.Sequences, known.Validation, directory, progress, ct);
            if (result.Outcome == TrainingOutcome.Diverged) throw new InvalidOperationException($"{representation}: {result.Message}");
            if (result.Outcome == TrainingOutcome.Interrupted) ct.ThrowIfCancellationRequested();
            var trainSeconds = watch.Elapsed.TotalSeconds;
            log?.Invoke($"{representation}: {result.Message} ({trainSeconds:F0} s)");

            var best = SasRecModel.Load(Path.Combine(directory, SasRecTrainer.BestModelFile));
            var package = SasRecExporter.Export(best, known.Train.ItemIds, $"coldstart-{representation.Replace('+', '-')}-seed{options.Seed}", null, null);
            package.Save(Path.Combine(directory, "package"));
            // Evaluate what is served: the package, loaded back, through ONNX Runtime.
            var served = ModelPackage.Load(Path.Combine(directory, "package"));
            var threading = new OnnxThreading(options.OnnxThreads);
            using var encoder = new OnnxEncoder(served, threading);
            var d = served.Manifest.Dimension;
            var extended = new float[catalogue * d];
            served.ItemEmbeddings.CopyTo(extended, 0);
            if (served.HasTextProjection)
            {
                using var projection = new TextProjectionSession(served, threading);
                projection.Project(heldOutText, h).CopyTo(extended, k * d);
            }
            rows.Add(new ColdStartRow(representation,
                RankByEmbeddings(encoder.Encode, served.ItemEmbeddings, d, warm),
                // Without a text projection the model has no vector for a held-out item: it cannot rank one at all.
                RankByEmbeddings(encoder.Encode, extended, d, cold, scorable: served.HasTextProjection ? catalogue : k),
                trainSeconds, result.BestEpoch));
        }

        var counts = new float[catalogue];
        foreach (var sequence in known.Train.Sequences)
            foreach (var item in sequence) counts[item - 1]++;
        rows.Add(new ColdStartRow(ColdStartReport.Popularity, RankByScores(counts.AsSpan(0, k).ToArray(), warm), RankByScores(counts, cold), 0, null));
        rows.Add(new ColdStartRow(ColdStartReport.Random, RankRandomly(k, warm, options.Seed), RankRandomly(catalogue, cold, options.Seed + 1), 0, null));
        return new ColdStartReport(known.Train.UserCount, k, h, warm.Length, cold.Count, options, rows);
    }

    /// <summary>
    /// Full ranking by user vector · item vector over the whole table, seen items removed, ties against the target.
    /// Items from <paramref name="scorable"/> on (0-based) have no vector and score −∞.
    /// </summary>
    public static RankingMetrics RankByEmbeddings(Func<IReadOnlyList<int[]>, float[]> encode, float[] table, int dimension, IReadOnlyList<ColdStartCase> cases, int? scorable = null)
    {
        var catalogue = table.Length / dimension;
        var scored = scorable ?? catalogue;
        var total = new RankingMetrics(Cutoffs);
        var gate = new object();
        const int batchSize = 256;
        for (var start = 0; start < cases.Count; start += batchSize)
        {
            var batch = cases.Skip(start).Take(batchSize).ToArray();
            var users = encode(batch.Select(c => c.History).ToArray());
            Parallel.For(0, batch.Length,
                () => (metrics: new RankingMetrics(Cutoffs), scores: new float[catalogue]),
                (i, _, local) =>
                {
                    var user = users.AsSpan(i * dimension, dimension);
                    for (var j = 0; j < scored; j++) local.scores[j] = TensorPrimitives.Dot(user, table.AsSpan(j * dimension, dimension));
                    local.scores.AsSpan(scored).Fill(float.NegativeInfinity);
                    local.metrics.Add(RankOf(local.scores, batch[i]));
                    return local;
                },
                local => { lock (gate) total.Merge(local.metrics); });
        }
        return total;
    }

    /// <summary>The same ranking with one score vector for every user (popularity).</summary>
    public static RankingMetrics RankByScores(float[] scores, IReadOnlyList<ColdStartCase> cases)
    {
        var metrics = new RankingMetrics(Cutoffs);
        var buffer = new float[scores.Length];
        foreach (var c in cases)
        {
            scores.CopyTo(buffer, 0);
            metrics.Add(RankOf(buffer, c));
        }
        return metrics;
    }

    /// <summary>A uniformly random rank among the candidates left after removing the seen items (seeded).</summary>
    public static RankingMetrics RankRandomly(int catalogue, IReadOnlyList<ColdStartCase> cases, int seed)
    {
        var metrics = new RankingMetrics(Cutoffs);
        var rng = SplitMix.For(seed, 0x2A4D);
        foreach (var c in cases)
        {
            var seen = c.Seen.Where(s => s != c.Target).Distinct().Count();
            metrics.Add(rng.NextInt(catalogue - seen));
        }
        return metrics;
    }

    private static int RankOf(float[] scores, ColdStartCase c)
    {
        var target = c.Target - 1;
        var targetScore = scores[target];
        foreach (var seen in c.Seen)
            if (seen - 1 != target) scores[seen - 1] = float.NegativeInfinity;
        var rank = 0;
        for (var j = 0; j < scores.Length; j++)
            if (j != target && scores[j] >= targetScore) rank++;
        return rank;
    }

    /// <summary>One log line per finished epoch.</summary>
    private sealed class Progress(string name, Action<string>? log) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (log is null || value.Completed is not { } epoch) return;
            log($"{name}: epoch {epoch.Epoch} loss {epoch.Loss:F4} val NDCG@10 {epoch.ValidationNdcg10?.ToString("F4", CultureInfo.InvariantCulture) ?? "–"} ({epoch.Seconds:F1} s)");
        }
    }
}
