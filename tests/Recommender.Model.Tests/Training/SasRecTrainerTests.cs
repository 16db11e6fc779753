using Recommender.Model.Data;
using Recommender.Model.Nn;
using Recommender.Model.Sasrec;
using Recommender.Model.Training;

namespace Recommender.Model.Tests.Training;

public sealed class SasRecTrainerTests : IDisposable
{
    private const int Items = 20;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"sasrec-trainer-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private static SasRecConfig Config(int maxLength = 10) => new()
    {
        ItemCount = Items, MaxLength = maxLength, Dimension = 32, Blocks = 2, Heads = 2, FeedForwardDimension = 32, Dropout = 0.1f,
    };

    private static List<int[]> PlantedRule(int users, int seed) => Training.PlantedRule.Sequences(Items, users, seed);

    private static List<EvaluationCase> Cases(IEnumerable<int[]> sequences) =>
        sequences.Select(s => new EvaluationCase(s[..^1], s[^1])).ToList();

    [Theory]
    [InlineData(LossKind.SoftmaxCrossEntropy, 0f)]
    [InlineData(LossKind.SoftmaxCrossEntropy, 0.1f)]
    [InlineData(LossKind.Gbce, 0f)]
    [InlineData(LossKind.Bce, 0f)]
    [InlineData(LossKind.SoftmaxCrossEntropy, 0f, true)]
    [InlineData(LossKind.SoftmaxCrossEntropy, 0f, false, 6)]
    public void A_short_run_learns_a_planted_sequential_rule(LossKind loss, float temperature, bool separateOutput = false, int sampledItems = 0)
    {
        var train = PlantedRule(300, seed: 1);
        var test = Cases(PlantedRule(100, seed: 2));
        var model = new SasRecModel(Config() with { Temperature = temperature, SeparateOutputEmbedding = separateOutput }, seed: 3);
        var before = SasRecTrainer.Evaluate(model, test).HitRate(1);
        var options = new TrainingOptions { Epochs = 15, BatchSize = 32, LearningRate = 1e-2, Loss = loss, Negatives = 8, SampledItems = sampledItems, Threads = 2, Patience = 100 };
        var result = new SasRecTrainer(model, options).Train(train, Cases(PlantedRule(50, seed: 4)), outputDirectory: null);
        var after = SasRecTrainer.Evaluate(model, test).HitRate(1);
        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        Assert.True(before < 0.3, $"An untrained model should not know the rule (HR@1 {before}).");
        Assert.True(after >= 0.9, $"HR@1 after training is {after} with {loss}; the rule should be learnt.");
        Assert.True(result.Curve[^1].Loss < result.Curve[0].Loss);
    }

    /// <summary>
    /// User balance 1 gives each sequence of a step the same total weight: the step's gradient is the mean of the
    /// sequences' own per-position-mean gradients, where balance 0 weighs them by their number of positions.
    /// </summary>
    [Fact]
    public void User_balance_weighs_each_sequence_alike()
    {
        int[][] sequences = [[1, 2, 3], [4, 5, 6, 7, 8, 9, 10, 11, 12]];
        float[][] Gradient(double balance, params int[] batch)
        {
            var model = new SasRecModel(Config() with { Dropout = 0f }, seed: 7);
            var trainer = new SasRecTrainer(model, new TrainingOptions { UserBalance = balance, Threads = 1 });
            trainer.Step(sequences, batch, epoch: 1, step: 0);
            return model.Parameters.Select(p => p.Grad.ToArray()).ToArray();
        }
        var shortAlone = Gradient(0, 0);
        var longAlone = Gradient(0, 1);
        var balanced = Gradient(1, 0, 1);
        var byPosition = Gradient(0, 0, 1);
        double worstBalanced = 0, worstByPosition = 0, largest = 0;
        for (var p = 0; p < balanced.Length; p++)
            for (var i = 0; i < balanced[p].Length; i++)
            {
                var (a, b) = (shortAlone[p][i], longAlone[p][i]);
                worstBalanced = Math.Max(worstBalanced, Math.Abs(balanced[p][i] - (a + b) / 2));
                worstByPosition = Math.Max(worstByPosition, Math.Abs(byPosition[p][i] - (2 * a + 8 * b) / 10));
                largest = Math.Max(largest, Math.Abs(a - b));
            }
        Assert.True(largest > 1e-3, "the two sequences' gradients should differ");
        Assert.True(worstBalanced < 1e-6, $"balanced gradient off by {worstBalanced}");
        Assert.True(worstByPosition < 1e-6, $"per-position gradient off by {worstByPosition}");
        Assert.Contains("UserBalance", Assert.Throws<ArgumentException>(() => new TrainingOptions { UserBalance = 1.5 }.Validate()).Message);
    }

    [Fact]
    public void Cosine_scores_are_rejected_with_a_sampled_loss_a_text_representation_or_a_negative_temperature()
    {
        var cosine = Config() with { Temperature = 0.1f };
        var sampled = Assert.Throws<ArgumentException>(() => new SasRecTrainer(new SasRecModel(cosine, seed: 1), new TrainingOptions { Loss = LossKind.Bce }));
        Assert.Contains("ce loss", sampled.Message);
        Assert.Contains("temperature", Assert.Throws<ArgumentException>(() => (Config() with { Temperature = -0.5f }).Validate()).Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("temperature", Assert.Throws<ArgumentException>(() => (Config() with { Temperature = float.NaN }).Validate()).Message, StringComparison.OrdinalIgnoreCase);
        var text = cosine with { ItemRepresentation = Packaging.ItemRepresentations.Text, TextDimension = 8, TextEncoder = "test-encoder" };
        Assert.Contains("id item representation", Assert.Throws<ArgumentException>(text.Validate).Message);
        var separateText = text with { Temperature = 0, SeparateOutputEmbedding = true };
        Assert.Contains("separate output embedding", Assert.Throws<ArgumentException>(separateText.Validate).Message);
    }

    [Fact]
    public void Same_seed_and_threads_give_identical_parameters_and_another_seed_does_not()
    {
        var train = PlantedRule(80, seed: 5);
        float[][] Run(int seed)
        {
            var model = new SasRecModel(Config(), seed);
            new SasRecTrainer(model, new TrainingOptions { Epochs = 2, BatchSize = 16, Seed = seed, Threads = 2 }).Train(train, null, null);
            return model.Parameters.Select(p => p.Data).ToArray();
        }
        var first = Run(7);
        var second = Run(7);
        var other = Run(8);
        for (var i = 0; i < first.Length; i++) Assert.Equal(first[i], second[i]);
        Assert.NotEqual(first[2], other[2]);
    }

    /// <summary>Sampled negatives (gBCE's per sequence, the sampled softmax's per step) are drawn again alike on resume.</summary>
    [Theory]
    [InlineData(LossKind.Gbce, 0)]
    [InlineData(LossKind.SoftmaxCrossEntropy, 8)]
    public void Resuming_from_a_checkpoint_reproduces_the_uninterrupted_run(LossKind loss, int sampledItems)
    {
        var train = PlantedRule(60, seed: 6);
        var validation = Cases(PlantedRule(20, seed: 9));
        var options = new TrainingOptions { Epochs = 3, BatchSize = 16, Loss = loss, Negatives = 4, SampledItems = sampledItems, SampledHeadItems = sampledItems / 2, Threads = 2 };
        var straight = new SasRecModel(Config(), seed: 1);
        new SasRecTrainer(straight, options).Train(train, validation, Path.Combine(_directory, "straight"));

        var interruptedDir = Path.Combine(_directory, "interrupted");
        new SasRecTrainer(new SasRecModel(Config(), seed: 1), options with { Epochs = 2 }).Train(train, validation, interruptedDir);
        var resumed = SasRecTrainer.Resume(interruptedDir, options);
        Assert.Equal(2, resumed.Epoch);
        var result = resumed.Train(train, validation, interruptedDir);

        Assert.Equal(3, result.EpochsRun);
        Assert.Equal(3, result.Curve.Count);
        for (var i = 0; i < straight.Parameters.Count; i++)
            Assert.Equal(straight.Parameters[i].Data, resumed.Model.Parameters[i].Data);
        var reloaded = SasRecModel.Load(Path.Combine(interruptedDir, SasRecTrainer.LastModelFile));
        Assert.Equal(straight.Parameters[0].Data, reloaded.Parameters[0].Data);
    }

    [Fact]
    public void A_run_killed_between_committing_the_state_and_the_model_is_completed_on_resume_and_mismatched_files_are_refused()
    {
        var train = PlantedRule(60, seed: 6);
        var options = new TrainingOptions { Epochs = 4, BatchSize = 16, Threads = 2 };
        string Run(string name, int epochs)
        {
            var directory = Path.Combine(_directory, name);
            new SasRecTrainer(new SasRecModel(Config(), seed: 1), options with { Epochs = epochs }).Train(train, null, directory);
            return directory;
        }
        var straight = Run("straight", 4);
        var two = Run("two", 2);
        var three = Run("three", 3);
        // What a kill between the two commits of epoch 3 leaves: epoch 3's state, epoch 2's model, epoch 3's model aside.
        var killed = Path.Combine(_directory, "killed");
        Directory.CreateDirectory(killed);
        File.Copy(Path.Combine(two, SasRecTrainer.LastModelFile), Path.Combine(killed, SasRecTrainer.LastModelFile));
        File.Copy(Path.Combine(three, SasRecTrainer.LastModelFile), Path.Combine(killed, SasRecTrainer.LastModelFile + ".next"));
        File.Copy(Path.Combine(three, SasRecTrainer.LastStateFile), Path.Combine(killed, SasRecTrainer.LastStateFile));

        var resumed = SasRecTrainer.Resume(killed, options);
        Assert.Equal(3, resumed.Epoch);
        resumed.Train(train, null, killed);
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, SasRecTrainer.LastModelFile)), File.ReadAllBytes(Path.Combine(killed, SasRecTrainer.LastModelFile)));
        Assert.False(File.Exists(Path.Combine(killed, SasRecTrainer.LastModelFile + ".next")));

        // Without the model set aside, a state and a model of different epochs are not resumed.
        File.Copy(Path.Combine(two, SasRecTrainer.LastModelFile), Path.Combine(three, SasRecTrainer.LastModelFile), overwrite: true);
        Assert.Contains("other weights", Assert.Throws<InvalidDataException>(() => SasRecTrainer.Resume(three, options)).Message);
    }

    [Fact]
    public void Cancelling_stops_at_a_step_with_the_last_epochs_checkpoint_whole_and_resumable()
    {
        var train = PlantedRule(60, seed: 6);
        var options = new TrainingOptions { Epochs = 3, BatchSize = 8, Threads = 2 };
        var straight = new SasRecModel(Config(), seed: 1);
        new SasRecTrainer(straight, options).Train(train, null, null);

        var directory = Path.Combine(_directory, "cancelled");
        using var cancel = new CancellationTokenSource();
        var trainer = new SasRecTrainer(new SasRecModel(Config(), seed: 1), options);
        // Cancelled in the middle of epoch 2 (the progress of its third step).
        var progress = new Callback(p => { if (p.Epoch == 2 && p.Batch == 3 && p.Completed is null) cancel.Cancel(); });
        var result = trainer.Train(train, null, directory, progress, cancel.Token);
        Assert.Equal(TrainingOutcome.Interrupted, result.Outcome);
        Assert.Equal(1, result.EpochsRun);
        Assert.Contains("Interrupted in epoch 2; the checkpoint of epoch 1", result.Message);

        var resumed = SasRecTrainer.Resume(directory, options);
        Assert.Equal(1, resumed.Epoch);
        Assert.Equal(TrainingOutcome.Completed, resumed.Train(train, null, directory).Outcome);
        for (var i = 0; i < straight.Parameters.Count; i++) Assert.Equal(straight.Parameters[i].Data, resumed.Model.Parameters[i].Data);
    }

    [Fact]
    public void A_new_run_drops_an_earlier_runs_best_model_and_a_time_limited_run_validates_its_last_epoch()
    {
        var train = PlantedRule(60, seed: 6);
        var validation = Cases(PlantedRule(20, seed: 9));
        var best = Path.Combine(_directory, SasRecTrainer.BestModelFile);
        new SasRecTrainer(new SasRecModel(Config(), seed: 1), new TrainingOptions { Epochs = 1, Threads = 2 }).Train(train, validation, _directory);
        var earlier = File.ReadAllBytes(best);

        // Validation every 5 epochs, but the limit ends the run after epoch 1: that epoch is validated and kept.
        var limited = new TrainingOptions { Epochs = 10, ValidateEvery = 5, Threads = 2, TimeLimit = TimeSpan.FromTicks(1) };
        var model = new SasRecModel(Config(), seed: 2);
        var result = new SasRecTrainer(model, limited).Train(train, validation, _directory);
        Assert.Equal(TrainingOutcome.TimeLimit, result.Outcome);
        Assert.Equal(1, result.BestEpoch);
        Assert.NotNull(result.Curve.Single().ValidationNdcg10);
        Assert.NotEqual(earlier, File.ReadAllBytes(best));
        Assert.Equal(model.Parameters[0].Data, SasRecModel.Load(best).Parameters[0].Data);

        // Resumed without validation, the best model is the last epoch and no earlier score is reported for it.
        var unvalidated = SasRecTrainer.Resume(_directory, limited with { TimeLimit = null, Epochs = 2 }).Train(train, null, _directory);
        Assert.Equal(2, unvalidated.BestEpoch);
        Assert.Null(unvalidated.BestValidationNdcg10);

        // A new run stopped before its first epoch leaves nothing of the earlier run to resume or export.
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var stopped = new SasRecTrainer(new SasRecModel(Config(), seed: 3), limited).Train(train, validation, _directory, cancellationToken: cancelled.Token);
        Assert.Equal(TrainingOutcome.Interrupted, stopped.Outcome);
        foreach (var file in new[] { SasRecTrainer.BestModelFile, SasRecTrainer.LastModelFile, SasRecTrainer.LastStateFile })
            Assert.False(File.Exists(Path.Combine(_directory, file)), file);
    }

    [Fact]
    public void An_early_stopped_run_resumed_without_validation_trains_on_to_its_epochs()
    {
        var train = PlantedRule(60, seed: 6);
        var validation = Cases(PlantedRule(20, seed: 9));
        // A learning rate too small to change the score: validation stops the run after its patience of one.
        var options = new TrainingOptions { Epochs = 5, Patience = 1, LearningRate = 1e-12, Threads = 2 };
        var stopped = new SasRecTrainer(new SasRecModel(Config(), seed: 1), options).Train(train, validation, _directory);
        Assert.Equal(TrainingOutcome.EarlyStopped, stopped.Outcome);
        Assert.True(stopped.EpochsRun < 5);

        var resumed = SasRecTrainer.Resume(_directory, options with { Epochs = 6 }).Train(train, null, _directory);
        Assert.Equal(TrainingOutcome.Completed, resumed.Outcome);
        Assert.Equal(6, resumed.EpochsRun);
    }

    private sealed class Callback(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    [Fact]
    public void A_non_finite_loss_stops_training_with_a_message_and_keeps_the_last_good_checkpoint()
    {
        var train = PlantedRule(40, seed: 10);
        var options = new TrainingOptions { Epochs = 1, BatchSize = 8, Threads = 2 };
        new SasRecTrainer(new SasRecModel(Config(), seed: 2), options).Train(train, null, _directory);
        var checkpoint = Path.Combine(_directory, SasRecTrainer.LastModelFile);
        var goodBytes = File.ReadAllBytes(checkpoint);
        var goodState = File.ReadAllBytes(Path.Combine(_directory, SasRecTrainer.LastStateFile));

        var resumed = SasRecTrainer.Resume(_directory, options with { Epochs = 3 });
        resumed.Model.Get("final_ln.bias").Data[0] = float.NaN; // a diverged weight
        var result = resumed.Train(train, null, _directory);

        Assert.Equal(TrainingOutcome.Diverged, result.Outcome);
        Assert.Contains("diverged", result.Message);
        Assert.Contains("epoch 2", result.Message);
        Assert.Contains("last good checkpoint (epoch 1)", result.Message);
        Assert.Equal(1, result.EpochsRun);
        Assert.Equal(goodBytes, File.ReadAllBytes(checkpoint));
        Assert.Equal(goodState, File.ReadAllBytes(Path.Combine(_directory, SasRecTrainer.LastStateFile)));
        Assert.All(SasRecModel.Load(checkpoint).Parameters, p => Assert.All(p.Data, v => Assert.True(float.IsFinite(v))));
    }

    [Fact]
    public void An_empty_training_set_or_one_without_two_event_users_is_rejected_clearly()
    {
        var trainer = new SasRecTrainer(new SasRecModel(Config(), seed: 1), new TrainingOptions { Epochs = 1 });
        var empty = Assert.Throws<ArgumentException>(() => trainer.Train([], null, null));
        Assert.Contains("empty", empty.Message);
        var short_ = Assert.Throws<ArgumentException>(() => trainer.Train([[1], [], [5]], null, null));
        Assert.Contains("none with at least two events", short_.Message);
        var outside = Assert.Throws<ArgumentException>(() => trainer.Train([[1, 21]], null, null));
        Assert.Contains("21", outside.Message);
    }

    [Fact]
    public void Users_with_fewer_than_two_events_contribute_no_training_positions()
    {
        var train = PlantedRule(30, seed: 11);
        var withShort = new List<int[]>(train);
        withShort.Insert(0, [4]);
        withShort.Insert(10, []);
        withShort.Add([7]);
        var options = new TrainingOptions { Epochs = 2, BatchSize = 8, Threads = 2 };
        var a = new SasRecModel(Config(), seed: 3);
        var b = new SasRecModel(Config(), seed: 3);
        var resultA = new SasRecTrainer(a, options).Train(train, null, null);
        var resultB = new SasRecTrainer(b, options).Train(withShort, null, null);
        for (var i = 0; i < a.Parameters.Count; i++) Assert.Equal(a.Parameters[i].Data, b.Parameters[i].Data);
        Assert.Equal(resultA.Curve[^1].Loss, resultB.Curve[^1].Loss);
    }

    [Fact]
    public void Checkpoints_and_the_training_curve_are_written_and_early_stopping_keeps_the_best_model()
    {
        var train = PlantedRule(60, seed: 12);
        var validation = Cases(PlantedRule(30, seed: 13));
        var options = new TrainingOptions { Epochs = 40, BatchSize = 16, LearningRate = 1e-2, Patience = 2, Threads = 2 };
        var result = new SasRecTrainer(new SasRecModel(Config(), seed: 4), options).Train(train, validation, _directory);

        Assert.Equal(TrainingOutcome.EarlyStopped, result.Outcome);
        Assert.Equal(result.BestEpoch + 2, result.EpochsRun);
        var best = SasRecModel.Load(Path.Combine(_directory, SasRecTrainer.BestModelFile));
        Assert.Equal(result.BestValidationNdcg10!.Value, SasRecTrainer.Evaluate(best, validation).Ndcg(10), 9);
        var csv = File.ReadAllLines(Path.Combine(_directory, SasRecTrainer.CurveCsvFile));
        Assert.Equal(TrainingCurve.CsvHeader, csv[0]);
        Assert.Equal(result.EpochsRun + 1, csv.Length);
        Assert.Equal(5, csv[1].Split(',').Length);
        var png = File.ReadAllBytes(Path.Combine(_directory, SasRecTrainer.CurvePngFile));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
    }

    [Fact]
    public void Progress_reports_every_step_and_every_epoch()
    {
        var reports = new List<TrainingProgress>();
        var options = new TrainingOptions { Epochs = 2, BatchSize = 10, Threads = 1 };
        new SasRecTrainer(new SasRecModel(Config(), seed: 1), options).Train(PlantedRule(30, seed: 14), null, null, new Collect(reports));
        Assert.Equal(2 * 3 + 2, reports.Count);
        Assert.All(reports, r => Assert.True(r.Loss > 0 && r.PositionsPerSecond > 0));
        Assert.Equal([1, 2], reports.Where(r => r.Completed is not null).Select(r => r.Completed!.Epoch));
        Assert.Equal(TimeSpan.Zero, reports[2].Eta);
    }

    [Fact]
    public void Training_windows_are_the_most_recent_unless_an_earlier_window_rate_is_set()
    {
        var rng = SplitMix.For(21);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(30 - 1 - 10, SasRecTrainer.WindowStart(30, 10, 0, ref rng));
            Assert.Equal(0, SasRecTrainer.WindowStart(11, 10, 1, ref rng));
            Assert.Equal(0, SasRecTrainer.WindowStart(4, 10, 1, ref rng));
        }
        // 30 events, windows of 10 inputs + 1 target: starts 0..19, each equally likely at rate 1.
        var counts = new int[20];
        for (var i = 0; i < 20_000; i++) counts[SasRecTrainer.WindowStart(30, 10, 1, ref rng)]++;
        Assert.All(counts, c => Assert.InRange(c, 850, 1150));
        // At rate 0.5 the most recent window comes half the time plus its 1/20 share of the other half.
        var recent = Enumerable.Range(0, 10_000).Count(_ => SasRecTrainer.WindowStart(30, 10, 0.5, ref rng) == 19);
        Assert.InRange(recent, 5_250 - 250, 5_250 + 250);
    }

    /// <summary>The rule lives only in the older events of long sequences, beyond the most recent window.</summary>
    [Fact]
    public void Earlier_windows_teach_what_only_the_older_events_show()
    {
        List<int[]> Sequences(int users, int seed)
        {
            var r = SplitMix.For(seed);
            var result = new List<int[]>();
            for (var u = 0; u < users; u++)
            {
                var start = 1 + r.NextInt(Items);
                var ruled = Enumerable.Range(0, 20).Select(t => (start - 1 + t) % Items + 1);
                var noise = Enumerable.Range(0, 6).Select(_ => 1 + r.NextInt(Items));
                result.Add(ruled.Concat(noise).ToArray());
            }
            return result;
        }
        var test = Cases(PlantedRule(100, seed: 22).Select(s => s.Length > 5 ? s[^5..] : s));
        double Learnt(double rate)
        {
            var model = new SasRecModel(Config(maxLength: 5), seed: 3);
            var options = new TrainingOptions { Epochs = 15, BatchSize = 32, LearningRate = 1e-2, Threads = 2, EarlierWindowRate = rate };
            new SasRecTrainer(model, options).Train(Sequences(300, seed: 23), null, null);
            return SasRecTrainer.Evaluate(model, test).HitRate(1);
        }
        var recentOnly = Learnt(0);
        var withEarlier = Learnt(1);
        Assert.True(recentOnly < 0.3, $"Only the random recent events were trained on, yet HR@1 is {recentOnly}.");
        Assert.True(withEarlier >= 0.9, $"HR@1 with earlier windows is {withEarlier}; the rule in the older events should be learnt.");
    }

    [Fact]
    public void The_cosine_schedule_anneals_to_zero_over_the_epochs_or_the_time_limit_whichever_ends_the_run()
    {
        var train = PlantedRule(40, seed: 24); // 40 users in batches of 16: three steps an epoch
        var constant = new TrainingOptions { Epochs = 3, BatchSize = 16, LearningRate = 1e-2, Threads = 2 };
        var cosine = constant with { Schedule = LearningRateSchedule.Cosine };
        Assert.Equal(1e-2, cosine.LearningRateAt(1, 0));
        Assert.Equal(5e-3, cosine.LearningRateAt(2, 0.5), 15);
        Assert.Equal(0, cosine.LearningRateAt(3, 1));
        Assert.Equal(0, cosine.LearningRateAt(3, 1.5));
        var a = new SasRecTrainer(new SasRecModel(Config(), seed: 5), constant);
        var b = new SasRecTrainer(new SasRecModel(Config(), seed: 5), cosine);
        var curveA = a.Train(train, null, null).Curve;
        var curveB = b.Train(train, null, null).Curve;
        // The last step starts at 8 of the run's 9 steps.
        Assert.Equal(1e-2 * 0.5 * (1 + Math.Cos(Math.PI * 8 / 9)), b.Optimizer.LearningRate, 15);
        Assert.NotEqual(curveA[0].Loss, curveB[0].Loss);

        // A time limit shorter than one step is the nearer end: the run stops after one epoch, annealed to zero.
        var timed = new SasRecTrainer(new SasRecModel(Config(), seed: 5), cosine with { Epochs = 100, TimeLimit = TimeSpan.FromTicks(1) });
        var result = timed.Train(train, null, null);
        Assert.Equal(TrainingOutcome.TimeLimit, result.Outcome);
        Assert.Equal(1, result.EpochsRun);
        Assert.Equal(0, timed.Optimizer.LearningRate);
        Assert.Throws<ArgumentException>(() => (cosine with { LearningRateDecayEpoch = 2 }).Validate());
    }

    [Fact]
    public void The_learning_rate_drops_after_the_decay_epoch_and_the_run_changes_with_it()
    {
        var train = PlantedRule(40, seed: 24);
        var constant = new TrainingOptions { Epochs = 3, BatchSize = 16, LearningRate = 1e-2, Threads = 2 };
        var decayed = constant with { LearningRateDecayEpoch = 2, LearningRateDecayFactor = 0.1 };
        Assert.Equal([1e-2, 1e-2, 1e-3], new[] { 1, 2, 3 }.Select(e => decayed.LearningRateAt(e)), (a, b) => Math.Abs(a - b) < 1e-15);
        var a = new SasRecTrainer(new SasRecModel(Config(), seed: 5), constant);
        var b = new SasRecTrainer(new SasRecModel(Config(), seed: 5), decayed);
        var curveA = a.Train(train, null, null).Curve;
        var curveB = b.Train(train, null, null).Curve;
        Assert.Equal(1e-2, a.Optimizer.LearningRate);
        Assert.Equal(1e-3, b.Optimizer.LearningRate, 12);
        Assert.Equal(curveA[1].Loss, curveB[1].Loss);
        Assert.NotEqual(curveA[2].Loss, curveB[2].Loss);
        Assert.Throws<ArgumentException>(() => (constant with { LearningRateDecayEpoch = 0 }).Validate());
        Assert.Throws<ArgumentException>(() => (constant with { LearningRateDecayFactor = 0 }).Validate());
    }

    private sealed class Collect(List<TrainingProgress> reports) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => reports.Add(value);
    }
}
