using Recommender.Cli;
using Recommender.Model.Data;
using Recommender.Model.Packaging;
using Recommender.Model.Sasrec;
using Recommender.Model.Training;

namespace Recommender.Model.Tests.Training;

public sealed class TrainCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("train-command-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static (int Exit, string Output, string Error) Invoke(params string[] args) =>
        CommandRunner.Run(TrainCommand.Create(), args);

    private string Write(string name, IEnumerable<string> lines)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    private (string Train, string ValInput, string ValOutput) Files()
    {
        // Item i is followed by i mod 12 + 1.
        var sequences = Enumerable.Range(0, 40).Select(u => Enumerable.Range(0, 4 + u % 6).Select(t => (u + t) % 12 + 1).ToArray()).ToList();
        var train = Write("train.txt", sequences.Select(s => string.Join(' ', s)));
        var valInput = Write("val-in.txt", sequences.Take(10).Select(s => string.Join(' ', s)));
        var valOutput = Write("val-out.txt", sequences.Take(10).Select(s => (s[^1] % 12 + 1).ToString()));
        return (train, valInput, valOutput);
    }

    [Theory]
    [InlineData("--batch-size", "0", "error: --batch-size must be a positive whole number, not 0.")]
    [InlineData("--validate-every", "0", "error: --validate-every (epochs between validations) must be a positive whole number, not 0.")]
    [InlineData("--lr-decay-epoch", "-2", "error: --lr-decay-epoch must be a positive whole number, not -2.")]
    [InlineData("--epochs", "0", "error: --epochs must be a positive whole number, not 0.")]
    public void A_count_below_one_is_refused_naming_its_flag(string option, string value, string message)
    {
        var (train, _, _) = Files();
        var run = Invoke("--train", train, "--out", Path.Combine(_directory, "counted"), option, value);
        Assert.Equal(1, run.Exit);
        Assert.Equal(message, run.Error.Trim());
    }

    [Fact]
    public void A_step_decay_with_the_cosine_schedule_is_refused_naming_both_flags()
    {
        var (train, _, _) = Files();
        var outDir = Path.Combine(_directory, "annealed");
        var run = Invoke("--train", train, "--out", outDir, "--lr-schedule", "cosine", "--lr-decay-epoch", "3");
        Assert.Equal(1, run.Exit);
        Assert.Equal("error: --lr-decay-epoch is a step decay of the constant schedule; it cannot be combined with --lr-schedule cosine.", run.Error.Trim());
        Assert.False(Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any());
    }

    [Theory]
    [InlineData("1e300")]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData("NaN")]
    public void A_time_limit_that_is_not_a_positive_number_of_minutes_is_refused_before_training(string minutes)
    {
        var (train, _, _) = Files();
        var run = Invoke("--train", train, "--out", Path.Combine(_directory, "limited"), "--time-limit", minutes);
        Assert.Equal(1, run.Exit);
        Assert.StartsWith("error: --time-limit must be a number of minutes above 0 and at most 10,000,000", run.Error);
        Assert.False(File.Exists(Path.Combine(_directory, "limited", SasRecTrainer.LastModelFile)));
    }

    [Theory]
    [InlineData("INT", 130)]
    [InlineData("TERM", 143)]
    public async Task A_signal_stops_training_at_a_step_keeps_a_whole_checkpoint_and_the_run_resumes(string signal, int exitCode)
    {
        var (train, _, _) = Files();
        var outDir = Path.Combine(_directory, "signalled");
        string[] common = ["train", "--train", train, "--out", outDir, "--dim", "16", "--max-length", "8", "--blocks", "1", "--batch-size", "8", "--threads", "1"];
        string[] command = [Path.Combine(AppContext.BaseDirectory, "recommender"), .. common, "--epochs", "1000000"];
        // A test run started in the background of a non-interactive shell ignores SIGINT, and children inherit that (as
        // under nohup, which the trainer honours): the child then gets SIGINT back at its default, as a terminal gives it.
        if (signal == "INT" && SigIntIgnored()) command = ["perl", "-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die \"exec: $!\"", .. command];
        var start = new System.Diagnostics.ProcessStartInfo(command[0], command[1..])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        // Signalled once two epochs have completed, so a checkpoint exists.
        while (await process.StandardOutput.ReadLineAsync() is { } line && !line.StartsWith("epoch 2:", StringComparison.Ordinal)) { }
        using (var kill = System.Diagnostics.Process.Start("kill", [$"-{signal}", process.Id.ToString()])) await kill.WaitForExitAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        Assert.True(process.WaitForExit(30_000), "training did not stop after the signal");
        await output;
        Assert.Equal(exitCode, process.ExitCode);
        var message = await error;
        Assert.Matches(@"^Interrupted in epoch \d+; the checkpoint of epoch \d+ is in .+ \(continue with --resume\)\.", message.Trim());
        Assert.DoesNotContain(Directory.GetFiles(outDir), f => f.EndsWith(".tmp", StringComparison.Ordinal) || f.EndsWith(".next", StringComparison.Ordinal));

        var epoch = int.Parse(System.Text.RegularExpressions.Regex.Match(message, @"checkpoint of epoch (\d+)").Groups[1].Value);
        var resumed = Invoke([.. common[1..], "--resume", "--epochs", (epoch + 1).ToString()]);
        Assert.True(resumed.Exit == 0, resumed.Error);
        Assert.Contains($"after epoch {epoch}.", resumed.Output);
        Assert.Contains($"epoch {epoch + 1}: loss", resumed.Output);
    }

    /// <summary>Whether this process ignores SIGINT (bit 1 of the SigIgn mask in /proc/self/status).</summary>
    private static bool SigIntIgnored()
    {
        var mask = File.ReadLines("/proc/self/status").First(l => l.StartsWith("SigIgn:", StringComparison.Ordinal))["SigIgn:".Length..].Trim();
        return (Convert.ToUInt64(mask, 16) & 0x2) != 0;
    }

    [Fact]
    public void A_split_items_file_gives_the_exported_package_its_external_ids()
    {
        var (train, _, _) = Files();
        string[] common = ["--train", train, "--dim", "8", "--max-length", "8", "--blocks", "1", "--epochs", "1", "--threads", "1"];
        // Written on another system: CRLF line ends and blank lines after the last item.
        var items = Path.Combine(_directory, "items.tsv");
        File.WriteAllText(items, string.Concat(Enumerable.Range(1, 12).Select(i => $"{i}\tmovie-{i * 7}\r\n")) + "\r\n  \r\n");
        var packageDir = Path.Combine(_directory, "with-ids");
        var run = Invoke([.. common, "--out", Path.Combine(_directory, "ids-run"), "--item-ids", items, "--export", packageDir, "--version", "ids-1"]);
        Assert.True(run.Exit == 0, run.Error);
        Assert.Equal(Enumerable.Range(1, 12).Select(i => $"movie-{i * 7}"), ModelPackage.Load(packageDir).Manifest.ItemIds);

        // A file that is not items.tsv line for line, or one of another size, is refused before training.
        var shuffled = Write("shuffled.tsv", ["2\tb", "1\ta"]);
        var refused = Invoke([.. common, "--out", Path.Combine(_directory, "bad-run"), "--item-ids", shuffled]);
        Assert.Equal(1, refused.Exit);
        Assert.Contains("shuffled.tsv:1: expected '1<TAB>external id'", refused.Error);
        refused = Invoke([.. common, "--out", Path.Combine(_directory, "bad-run"), "--item-ids", Write("short.tsv", ["1\ta", "2\tb"])]);
        Assert.Contains("lists 2 item ids, but the model has 12 items", refused.Error);
        // An existing directory that cannot take a file is refused before training too.
        refused = Invoke([.. common, "--out", Path.Combine(_directory, "bad-run"), "--export", "/proc"]);
        Assert.Contains("--export '/proc' cannot be written", refused.Error);
        Assert.False(Directory.Exists(Path.Combine(_directory, "bad-run")));

        // Data that names its items itself needs no file, and is not given one.
        var ratings = Write("ratings.csv", ["userId,movieId,rating,timestamp", "1,10,4,1", "1,20,4,2", "2,10,4,1", "2,20,4,2"]);
        refused = Invoke("--train", ratings, "--format", "movielens-csv", "--out", Path.Combine(_directory, "own-ids"), "--item-ids", items);
        Assert.Contains("carries its own item ids", refused.Error);
    }

    [Fact]
    public void Help_lists_the_training_options()
    {
        var (exit, output, _) = Invoke("--help");
        Assert.Equal(0, exit);
        foreach (var option in new[] { "--train", "--val-input", "--out", "--loss", "--resume", "--export", "--dim", "--lr", "--no-validation" })
            Assert.Contains(option, output);
    }

    [Fact]
    public void Trains_checkpoints_resumes_and_exports_a_loadable_package()
    {
        var (train, valInput, valOutput) = Files();
        var outDir = Path.Combine(_directory, "run");
        var packageDir = Path.Combine(_directory, "package");
        string[] common = ["--train", train, "--val-input", valInput, "--val-output", valOutput, "--out", outDir,
            "--dim", "16", "--max-length", "8", "--blocks", "1", "--batch-size", "8", "--lr", "0.01", "--threads", "2"];
        var first = Invoke([.. common, "--epochs", "2"]);
        Assert.True(first.Exit == 0, first.Error);
        Assert.Contains("epoch 2: loss", first.Output);
        Assert.Contains("val NDCG@10", first.Output);
        foreach (var file in new[] { SasRecTrainer.LastModelFile, SasRecTrainer.LastStateFile, SasRecTrainer.BestModelFile, SasRecTrainer.CurveCsvFile, SasRecTrainer.CurvePngFile })
            Assert.True(File.Exists(Path.Combine(outDir, file)), file);

        var second = Invoke([.. common, "--epochs", "3", "--resume", "--export", packageDir, "--version", "test-1", "--test-input", valInput, "--test-output", valOutput]);
        Assert.True(second.Exit == 0, second.Error);
        Assert.Contains("after epoch 2", second.Output);
        Assert.Contains("epoch 3: loss", second.Output);
        Assert.DoesNotContain("epoch 1: loss", second.Output);
        var package = ModelPackage.Load(packageDir);
        Assert.Equal("test-1", package.Manifest.Version);
        Assert.Equal(16, package.Manifest.Dimension);
        Assert.Equal(12, package.Manifest.ItemCount);
        var best = SasRecModel.Load(Path.Combine(outDir, SasRecTrainer.BestModelFile));
        Assert.Equal(best.ItemEmbeddings(), package.ItemEmbeddings);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(outDir, SasRecTrainer.CurveCsvFile)).Length);

        var expected = SasRecTrainer.Evaluate(best, Recommender.Model.Data.SequenceFile.ReadEvaluationCases(valInput, valOutput));
        Assert.Contains($"NDCG@10 {expected.Ndcg(10).ToString("F4", System.Globalization.CultureInfo.InvariantCulture)}", second.Output);
        Assert.Contains("test (best checkpoint", second.Output);
        Assert.Equal(expected.Ndcg(10), package.Manifest.Metrics!["test_ndcg@10"], 9);
        var score = Invoke("score", "--model", Path.Combine(outDir, SasRecTrainer.BestModelFile), "--input", valInput, "--output", valOutput);
        Assert.True(score.Exit == 0, score.Error);
        Assert.Contains($"10 cases: NDCG@10 {expected.Ndcg(10).ToString("F4", System.Globalization.CultureInfo.InvariantCulture)}", score.Output);
    }

    [Fact]
    public void Excluding_seen_items_is_announced_and_recorded_in_the_package()
    {
        var (train, valInput, valOutput) = Files();
        var packageDir = Path.Combine(_directory, "excluding");
        var run = Invoke("--train", train, "--val-input", valInput, "--val-output", valOutput, "--out", Path.Combine(_directory, "run-excluding"),
            "--dim", "16", "--max-length", "8", "--blocks", "1", "--batch-size", "8", "--epochs", "1", "--threads", "1", "--exclude-seen",
            "--export", packageDir, "--version", "excluding-1");
        Assert.True(run.Exit == 0, run.Error);
        Assert.Contains("loss SoftmaxCrossEntropy excluding seen items,", run.Output);
        Assert.True(ModelPackage.Load(packageDir).Manifest.Training!["excludeSeen"]!.GetValue<bool>());
    }

    [Fact]
    public void Label_smoothing_and_the_recency_bias_are_announced_and_recorded_in_the_package()
    {
        var (train, valInput, valOutput) = Files();
        var packageDir = Path.Combine(_directory, "smoothed");
        var run = Invoke("--train", train, "--val-input", valInput, "--val-output", valOutput, "--out", Path.Combine(_directory, "run-smoothed"),
            "--dim", "16", "--max-length", "8", "--blocks", "2", "--batch-size", "8", "--epochs", "1", "--threads", "1",
            "--label-smoothing", "0.2", "--recency-bias", "--export", packageDir, "--version", "smoothed-1");
        Assert.True(run.Exit == 0, run.Error);
        Assert.Contains("loss SoftmaxCrossEntropy with label smoothing 0.2,", run.Output);
        Assert.Contains("with a recency bias", run.Output);
        var training = ModelPackage.Load(packageDir).Manifest.Training!;
        Assert.Equal(0.2, training["labelSmoothing"]!.GetValue<double>());
        Assert.True(training["recencyBias"]!.GetValue<bool>());
        // The slopes were trained: one epoch of steps moves them off their starting 0.
        var model = SasRecModel.Load(Path.Combine(_directory, "run-smoothed", SasRecTrainer.LastModelFile));
        Assert.All(new[] { "blocks.0.attn.recency", "blocks.1.attn.recency" }, name => Assert.NotEqual(0f, model.Get(name).Data[0]));
    }

    [Fact]
    public void Gated_residuals_are_announced_trained_recorded_and_refused_with_post_norm()
    {
        var (train, valInput, valOutput) = Files();
        var packageDir = Path.Combine(_directory, "gated");
        string[] common = ["--train", train, "--val-input", valInput, "--val-output", valOutput, "--dim", "16", "--max-length", "8", "--blocks", "2",
            "--batch-size", "8", "--epochs", "1", "--threads", "1", "--gated-residual"];
        var run = Invoke([.. common, "--out", Path.Combine(_directory, "run-gated"), "--export", packageDir, "--version", "gated-1"]);
        Assert.True(run.Exit == 0, run.Error);
        Assert.Contains(" with gated residuals,", System.Text.RegularExpressions.Regex.Replace(run.Output, @"\s+", " "));
        Assert.True(ModelPackage.Load(packageDir).Manifest.Training!["gatedResidual"]!.GetValue<bool>());
        // The gates were trained: their biases start at 0 and one epoch of steps moves them.
        var model = SasRecModel.Load(Path.Combine(_directory, "run-gated", SasRecTrainer.LastModelFile));
        Assert.All(new[] { "blocks.0.gate1.bias", "blocks.1.gate2.bias" }, name => Assert.Contains(model.Get(name).Data, v => v != 0f));

        var refused = Invoke([.. common, "--out", Path.Combine(_directory, "run-gated-post"), "--post-norm"]);
        Assert.NotEqual(0, refused.Exit);
        Assert.Contains("Gated residuals apply to the plain pre-norm block only", refused.Error);
        Assert.False(Directory.Exists(Path.Combine(_directory, "run-gated-post", SasRecTrainer.LastModelFile)));
    }

    /// <summary>A loss option is named in the run's summary line and recorded in the package's training config.</summary>
    [Theory]
    [InlineData("--future-targets 3 --future-decay 0.7", "loss SoftmaxCrossEntropy excluding seen items over the next 3 items (decay 0.7),", "futureTargets=3 futureDecay=0.7")]
    [InlineData("--sampled-items 5 --sampled-head 2", "loss SoftmaxCrossEntropy sampling 5 items a step (2 most frequent) excluding seen items,", "sampledItems=5 sampledHeadItems=2")]
    public void Loss_options_are_announced_and_recorded_in_the_package(string options, string announced, string recorded)
    {
        var (train, valInput, valOutput) = Files();
        var packageDir = Path.Combine(_directory, "loss-option");
        var run = Invoke(["--train", train, "--val-input", valInput, "--val-output", valOutput, "--out", Path.Combine(_directory, "run-loss-option"),
            "--dim", "16", "--max-length", "8", "--batch-size", "8", "--epochs", "1", "--threads", "1",
            "--exclude-seen", .. options.Split(' '), "--export", packageDir, "--version", "loss-option-1"]);
        Assert.True(run.Exit == 0, run.Error);
        Assert.Contains(announced, run.Output);
        var training = ModelPackage.Load(packageDir).Manifest.Training!;
        foreach (var pair in recorded.Split(' '))
        {
            var (key, value) = (pair.Split('=')[0], double.Parse(pair.Split('=')[1], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(value, training[key]!.GetValue<double>());
        }
    }

    [Fact]
    public void Bad_input_gives_a_clear_message_and_a_non_zero_exit()
    {
        var (train, valInput, _) = Files();
        var missing = Invoke("--train", Path.Combine(_directory, "nope.txt"), "--out", _directory);
        Assert.NotEqual(0, missing.Exit);
        Assert.Contains("nope.txt", missing.Error);

        var unpaired = Invoke("--train", train, "--val-input", valInput, "--out", _directory);
        Assert.NotEqual(0, unpaired.Exit);
        Assert.Contains("--val-output", unpaired.Error);

        var badHeads = Invoke("--train", train, "--out", _directory, "--dim", "10", "--heads", "3", "--epochs", "1");
        Assert.NotEqual(0, badHeads.Exit);
        Assert.Contains("--dim 10 must be a positive multiple of --heads 3", badHeads.Error);

        // The library's checks are reported in the command's own terms.
        foreach (var (args, message) in new (string[], string)[]
        {
            (["--dim", "5000"], "--dim is 5000; it must be at most 4,096."),
            (["--dropout", "1"], "--dropout is 1; it must be in [0, 1)."),
            (["--input-item-dropout", "1"], "--input-item-dropout is 1; it must be in [0, 1)."),
            (["--user-balance", "2"], "--user-balance is 2; it must be in [0, 1]."),
            (["--lr", "NaN"], "--lr is NaN; it must be a finite number above 0."),
            (["--weight-average", "1"], "--weight-average is 1; it must be in [0, 1)."),
            (["--loss", "gbce", "--exclude-seen"], "--exclude-seen applies to the softmax cross-entropy loss only, not Gbce."),
            (["--label-smoothing", "1"], "--label-smoothing is 1; it must be in [0, 1)."),
            (["--loss", "bce", "--label-smoothing", "0.1"], "--label-smoothing applies to the softmax cross-entropy loss only, not Bce."),
            (["--future-targets", "0"], "--future-targets is 0; it must be positive."),
            (["--future-targets", "65"], "--future-targets is 65; it must be at most 64."),
            (["--future-targets", "3", "--future-decay", "0"], "--future-decay is 0; it must be in (0, 1]."),
            (["--loss", "bce", "--future-targets", "2"], "--future-targets applies to the softmax cross-entropy loss only, not Bce."),
            (["--future-targets", "2", "--label-smoothing", "0.1"], "--future-targets and --label-smoothing both spread the target; use one of them."),
            (["--sampled-items", "-1"], "--sampled-items is -1; it must be 0 (all items) or positive."),
            (["--loss", "gbce", "--sampled-items", "5"], "--sampled-items applies to the softmax cross-entropy loss only, not Gbce."),
            (["--sampled-items", "5", "--temperature", "0.1"], "--sampled-items needs the dot product"),
            (["--sampled-items", "5", "--sampled-head", "5"], "--sampled-head is 5; it must be below --sampled-items (5)"),
        })
        {
            var refused = Invoke(["--train", train, "--out", Path.Combine(_directory, "refused"), "--epochs", "1", .. args]);
            Assert.Equal(1, refused.Exit);
            Assert.Contains(message, refused.Error);
        }

        var noResume = Invoke("--train", train, "--out", Path.Combine(_directory, "empty"), "--resume");
        Assert.NotEqual(0, noResume.Exit);
        Assert.Contains("last.model", noResume.Error);

        var empty = Write("empty.txt", ["5"]);
        var noPositions = Invoke("--train", empty, "--out", _directory, "--epochs", "1");
        Assert.NotEqual(0, noPositions.Exit);
        Assert.Contains("at least two events", noPositions.Error);
    }

    [Fact]
    public void Options_that_could_only_fail_at_the_end_fail_before_any_epoch()
    {
        var (train, valInput, valOutput) = Files();
        var outDir = Path.Combine(_directory, "early");
        string[] common = ["--train", train, "--out", outDir, "--dim", "8", "--max-length", "8", "--blocks", "1", "--epochs", "1"];
        var aFile = Write("a-file", ["x"]);

        var cases = new (string[] Args, string Named)[]
        {
            (["--export", Path.Combine(_directory, "pkg"), "--version", "../escape"], "--version"),
            (["--export", aFile], "--export"),
            (["--test-input", valInput], "--test-output"),
            (["--val-input", Write("none-in.txt", []), "--val-output", Write("none-out.txt", [])], "no evaluation cases"),
        };
        foreach (var (args, named) in cases)
        {
            var result = Invoke([.. common, .. args]);
            Assert.True(result.Exit != 0, $"{string.Join(' ', args)} should fail");
            Assert.Contains(named, result.Error);
            Assert.Contains("error:", result.Error);
            Assert.DoesNotContain("   at ", result.Error);
            Assert.False(File.Exists(Path.Combine(outDir, SasRecTrainer.LastModelFile)), $"{string.Join(' ', args)} trained before failing");
        }
        var outIsFile = Invoke("--train", train, "--out", aFile, "--epochs", "1");
        Assert.NotEqual(0, outIsFile.Exit);
        Assert.Contains("is a file", outIsFile.Error);
    }

    [Fact]
    public void A_package_trained_on_external_ids_keeps_them_and_refuses_rows_without_an_id()
    {
        // MovieLens ids are sparse: dense item i must export as its movieId, never as "i".
        var ratings = Write("ratings.csv", ["userId,movieId,rating,timestamp",
            .. Enumerable.Range(0, 30).SelectMany(u => Enumerable.Range(0, 5).Select(t => $"{u},{1000 + (u + t) % 7 * 10},4.0,{t + 1}"))]);
        var packageDir = Path.Combine(_directory, "ml-package");
        string[] common = ["--train", ratings, "--format", "movielens-csv", "--dim", "8", "--max-length", "8",
            "--blocks", "1", "--epochs", "1", "--export", packageDir, "--version", "ml-1"];
        var ok = Invoke([.. common, "--out", Path.Combine(_directory, "ml-run")]);
        Assert.True(ok.Exit == 0, ok.Error);
        var ids = ModelPackage.Load(packageDir).Manifest.ItemIds;
        Assert.Equal(Enumerable.Range(0, 7).Select(i => (1000 + i * 10).ToString()).Order(), ids.Order());

        var more = Invoke([.. common, "--items", "9", "--out", Path.Combine(_directory, "ml-run-2")]);
        Assert.NotEqual(0, more.Exit);
        Assert.Contains("would have no id", more.Error);
    }

    [Fact]
    public void Filters_remove_what_they_name_and_are_refused_where_they_cannot_apply()
    {
        // 30 users view items 0..6 in a cycle; each also buys one item nobody else touches and turns down another.
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var events = Path.Combine(_directory, "events.csv");
        using (var writer = File.CreateText(events))
            EventExportFormat.Write(writer, Enumerable.Range(0, 30).SelectMany(u =>
                Enumerable.Range(0, 5).Select(t => ($"u{u}", $"item-{(u + t) % 7}", "view", start.AddMinutes(t), $"e{u}-{t}"))
                    .Append(($"u{u}", $"bought-{u}", "purchase", start.AddMinutes(9), $"e{u}-p"))
                    .Append(($"u{u}", $"shunned-{u}", "dismiss", start.AddMinutes(10), $"e{u}-d"))));
        string[] common = ["--train", events, "--format", "event-export", "--dim", "8", "--max-length", "8", "--blocks", "1", "--epochs", "1"];
        var viewed = Enumerable.Range(0, 7).Select(i => $"item-{i}").Order().ToArray();

        var byType = Invoke([.. common, "--event-types", "view", "--out", Path.Combine(_directory, "views"), "--export", Path.Combine(_directory, "views-pkg"), "--version", "views"]);
        Assert.True(byType.Exit == 0, byType.Error);
        Assert.Contains("other event types 30", byType.Output);
        Assert.Equal(viewed, ModelPackage.Load(Path.Combine(_directory, "views-pkg")).Manifest.ItemIds.Order());

        var byCount = Invoke([.. common, "--min-item-interactions", "2", "--out", Path.Combine(_directory, "counts"), "--export", Path.Combine(_directory, "counts-pkg"), "--version", "counts"]);
        Assert.True(byCount.Exit == 0, byCount.Error);
        Assert.Contains("rare-item interactions 30 (30 items)", byCount.Output);
        Assert.Equal(viewed, ModelPackage.Load(Path.Combine(_directory, "counts-pkg")).Manifest.ItemIds.Order());

        var unfiltered = Invoke([.. common, "--out", Path.Combine(_directory, "all"), "--export", Path.Combine(_directory, "all-pkg"), "--version", "all"]);
        Assert.True(unfiltered.Exit == 0, unfiltered.Error);
        Assert.Contains("dismissals 30", unfiltered.Output);
        // The turned-down items are no interactions: the vocabulary has the viewed and bought items only.
        Assert.Equal(37, ModelPackage.Load(Path.Combine(_directory, "all-pkg")).Manifest.ItemCount);

        var (train, _, _) = Files();
        foreach (var (args, message) in new (string[], string)[]
        {
            (["--train", train, "--min-rating", "4"], "--min-rating needs a format with ratings"),
            (["--train", train, "--event-types", "view"], "--event-types applies to event-export files only, not sequences"),
            ([.. common, "--event-types", "view", "purchse"], "Event type 'purchse' does not occur in the data; its event types are purchase, view.\n"),
            ([.. common, "--min-user-interactions", "-1"], "--min-user-interactions is -1"),
            ([.. common, "--event-types", "view", "dismiss"], "--event-types names 'dismiss': dismissals are users turning items down"),
        })
        {
            var refused = Invoke([.. args, "--out", Path.Combine(_directory, "refused")]);
            Assert.Equal(1, refused.Exit);
            Assert.Contains(message, refused.Error);
            Assert.False(Directory.Exists(Path.Combine(_directory, "refused")));
        }
    }
}
