using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Recommender.Model.Data;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;
using Recommender.Model.Sasrec;
using Recommender.Model.Training;
using Spectre.Console;

namespace Recommender.Cli;

/// <summary>
/// recommender train: trains a SASRec model on CPU with the built-in trainer, validating on held-out next items,
/// checkpointing into --out, optionally exporting the best model as a serving package.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var train = new Option<string>("--train") { Description = "Training interactions (see --format); sequence files hold dense item ids 1..N.", Required = true };
        var format = new Option<string>("--format") { Description = "sequences | pairs | movielens-csv | movielens-udata | event-export.", DefaultValueFactory = _ => "sequences" };
        format.AcceptOnlyFromAmong([.. InteractionFormatNames.All.Keys]);
        var valInput = new Option<string?>("--val-input") { Description = "Validation histories (one sequence of dense ids per line, e.g. val/input.txt from recommender split)." };
        var valOutput = new Option<string?>("--val-output") { Description = "Held-out next item for each line of --val-input." };
        var output = new Option<string>("--out") { Description = "Directory for last.model/last.state, best.model, curve.csv and curve.png.", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue the run saved in --out (last.model + last.state); model-shape options are taken from the checkpoint." };
        var export = new Option<string?>("--export") { Description = "Write the serving package of the best checkpoint to this directory at the end." };
        var version = new Option<string?>("--version") { Description = "Version of the exported package (default: sasrec-<UTC time>)." };
        var itemIds = new Option<string?>("--item-ids")
        {
            Description = "External item ids for the exported package when --train holds dense ids: the items.tsv written by split, or one id per line (default: the dense ids themselves).",
        };
        var testInput = new Option<string?>("--test-input") { Description = "Test histories, scored with the best checkpoint at the end (reported only, never used for selection)." };
        var testOutput = new Option<string?>("--test-output") { Description = "Held-out next item for each line of --test-input." };
        var items = new Option<int?>("--items") { Description = "Catalogue size N (default: the largest id in the training and validation data)." };

        var loss = new Option<string>("--loss") { Description = "ce: full softmax cross-entropy (SASRec-CE); bce: one negative per position (SASRec); gbce: K negatives, calibrated (gSASRec).", DefaultValueFactory = _ => "ce" };
        loss.AcceptOnlyFromAmong("ce", "bce", "gbce");
        var negatives = new Option<int>("--negatives") { Description = "gBCE negatives per sequence.", DefaultValueFactory = _ => 256 };
        var calibration = new Option<double>("--calibration") { Description = "gBCE calibration t in [0, 1].", DefaultValueFactory = _ => 0.75 };
        var excludeSeen = new Option<bool>("--exclude-seen") { Description = "ce only: each position's softmax leaves out the items the user already had, as ranking with seen items removed does." };
        var labelSmoothing = new Option<double>("--label-smoothing") { Description = "ce only, in [0, 1): the share of each target spread evenly over the items its softmax runs over.", DefaultValueFactory = _ => 0.0 };
        var sampledItems = new Option<int>("--sampled-items") { Description = "ce only: each step's softmax runs over the targets and this many items drawn uniformly, at about K/N of the full loss's cost (0: all items).", DefaultValueFactory = _ => 0 };
        var sampledHead = new Option<int>("--sampled-head") { Description = "With --sampled-items: how many of them are the items most frequent in the training data, in every step's sample (0: all drawn uniformly).", DefaultValueFactory = _ => 0 };
        var futureTargets = new Option<int>("--future-targets") { Description = "ce only: each position learns to predict this many following items (1: the next one alone), item t+k weighing --future-decay^(k-1).", DefaultValueFactory = _ => 1 };
        var futureDecay = new Option<double>("--future-decay") { Description = "In (0, 1]: weight of each further --future-targets item relative to the one before.", DefaultValueFactory = _ => 0.5 };
        var userBalance = new Option<double>("--user-balance") { Description = "In [0, 1]: each position of a sequence with n training positions weighs n^-a; 0 weighs positions alike, 1 users alike.", DefaultValueFactory = _ => 0.0 };
        var earlierWindows = new Option<double>("--earlier-window-rate") { Description = "Chance in [0, 1] that a sequence longer than --max-length + 1 trains on a random earlier window instead of its most recent one.", DefaultValueFactory = _ => 0.0 };
        var maxLength = new Option<int>("--max-length") { Description = "Most recent items the model sees.", DefaultValueFactory = _ => 200 };
        var dimension = new Option<int>("--dim") { Description = "Embedding and hidden width.", DefaultValueFactory = _ => 64 };
        var blocks = new Option<int>("--blocks") { Description = "Transformer blocks.", DefaultValueFactory = _ => 2 };
        var heads = new Option<int>("--heads") { Description = "Attention heads (must divide --dim).", DefaultValueFactory = _ => 1 };
        var ffn = new Option<int?>("--ffn-dim") { Description = "Feed-forward hidden width (default: --dim)." };
        var dropout = new Option<float>("--dropout") { Description = "Dropout rate in [0, 1).", DefaultValueFactory = _ => 0.2f };
        var postNorm = new Option<bool>("--post-norm") { Description = "Post-layer-norm blocks LN(x + f(x)) instead of pre-norm x + f(LN(x))." };
        var activation = new Option<string>("--activation") { Description = "relu | gelu | swiglu (a first layer twice --ffn-dim wide, one half gating the other).", DefaultValueFactory = _ => "relu" };
        activation.AcceptOnlyFromAmong("relu", "gelu", "swiglu");
        var attentionDropout = new Option<float>("--attention-dropout") { Description = "Dropout rate on the attention weights, in [0, 1).", DefaultValueFactory = _ => 0f };
        var normalisedResidual = new Option<bool>("--normalised-residual") { Description = "The original SASRec block: the residual stream is re-normalised in every block (pre-norm only)." };
        var inputItemDropout = new Option<float>("--input-item-dropout") { Description = "Chance in [0, 1) that a history item is left out of a training input (its position stays).", DefaultValueFactory = _ => 0f };
        var recencyBias = new Option<bool>("--recency-bias") { Description = "Add a learned per-head recency term -w(i - j) to the attention score of query i for key j." };
        var gatedResidual = new Option<bool>("--gated-residual") { Description = "Pre-norm blocks: scale each residual branch by a learned gate sigmoid(x W + b) read from the stream (LiGR-style)." };
        var separateOutput = new Option<bool>("--separate-output-embedding") { Description = "Score items with a table of their own (out_emb) instead of the input item embeddings (id items)." };
        var positionsFromStart = new Option<bool>("--positions-from-start") { Description = "Count positions from the oldest item in the window instead of back from the newest." };
        var initStd = new Option<float>("--init-std") { Description = "Standard deviation of the normal initialisation of embeddings and matrices; 0 = Xavier-normal.", DefaultValueFactory = _ => 0f };
        var temperature = new Option<float>("--temperature") { Description = "Score items by the cosine of user and item vector divided by this temperature (ce loss, id items); 0 = dot product.", DefaultValueFactory = _ => 0f };
        var itemText = TrainItemText.RepresentationOption();
        var itemTextFile = TrainItemText.FileOption();
        var itemIdDropout = TrainItemText.IdDropoutOption();

        var epochs = new Option<int>("--epochs") { Description = "Maximum epochs.", DefaultValueFactory = _ => 200 };
        var batch = new Option<int>("--batch-size") { Description = "Sequences per step.", DefaultValueFactory = _ => 128 };
        var learningRate = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 1e-3 };
        var decayEpoch = new Option<int?>("--lr-decay-epoch") { Description = "Last epoch at the full --lr; later epochs use --lr times --lr-decay-factor (default: constant)." };
        var decayFactor = new Option<double>("--lr-decay-factor") { Description = "Learning-rate multiplier after --lr-decay-epoch, in (0, 1].", DefaultValueFactory = _ => 0.25 };
        var schedule = new Option<string>("--lr-schedule") { Description = "constant: --lr throughout (or the step of --lr-decay-epoch); cosine: anneal from --lr to zero over --epochs or --time-limit, whichever ends the run first.", DefaultValueFactory = _ => "constant" };
        schedule.AcceptOnlyFromAmong("constant", "cosine");
        var beta1 = new Option<double>("--beta1") { Description = "Adam beta1.", DefaultValueFactory = _ => 0.9 };
        var beta2 = new Option<double>("--beta2") { Description = "Adam beta2.", DefaultValueFactory = _ => 0.98 };
        var weightDecay = new Option<double>("--weight-decay") { Description = "Decoupled (AdamW) weight decay on matrices; 0 = Adam.", DefaultValueFactory = _ => 0.0 };
        var weightAverage = new Option<double>("--weight-average") { Description = "Decay in [0, 1) of a moving average of the weights that validation and best.model use, e.g. 0.99; 0 = the raw weights.", DefaultValueFactory = _ => 0.0 };
        var seed = new Option<int>("--seed") { Description = "Seed; a run is reproducible for a given seed and --threads.", DefaultValueFactory = _ => 42 };
        var threads = new Option<int>("--threads") { Description = "Worker threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var validateEvery = new Option<int>("--validate-every") { Description = "Validate every k epochs.", DefaultValueFactory = _ => 1 };
        var patience = new Option<int>("--patience") { Description = "Validations without NDCG@10 improvement before stopping.", DefaultValueFactory = _ => 10 };
        var timeLimit = new Option<double?>("--time-limit") { Description = "Stop after the epoch during which this many minutes have passed." };
        var filters = new FilterOptions();
        var noValidation = new Option<bool>("--no-validation") { Description = "Skip validation (e.g. to time epochs); best.model is then the last epoch." };

        var command = new Command("train", "Train a SASRec next-item model on the CPU (checkpoints, resume, early stopping, training curve).")
        {
            train, format, valInput, valOutput, output, resume, export, version, itemIds, items, testInput, testOutput,
            loss, negatives, calibration, excludeSeen, labelSmoothing, sampledItems, sampledHead, futureTargets, futureDecay, earlierWindows, userBalance, maxLength, dimension, blocks, heads, ffn, dropout, postNorm, activation, attentionDropout, inputItemDropout, normalisedResidual, positionsFromStart, recencyBias, gatedResidual, separateOutput, initStd, temperature,
            epochs, batch, learningRate, decayEpoch, decayFactor, schedule, beta1, beta2, weightDecay, weightAverage, seed, threads, validateEvery, patience, timeLimit, noValidation,
            itemText, itemTextFile, itemIdDropout,
        };
        foreach (var option in filters.All) command.Options.Add(option);
        command.SetAction(parse => CommandErrors.Guard(parse, () => Run(parse)));
        command.Subcommands.Add(ScoreCommand());
        return command;

        int Run(ParseResult parse)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(parse.InvocationConfiguration.Output) });
            if (!console.Profile.Capabilities.Interactive) console.Profile.Width = Math.Max(console.Profile.Width, 200); // one line per epoch in logs
            var trainPath = parse.GetValue(train)!;
            var outDir = parse.GetValue(output)!;
            var formatName = parse.GetValue(format)!;
            var interactionFormat = InteractionFormatNames.All[formatName];
            var preprocessing = filters.Read(parse, interactionFormat, formatName);
            SequenceDataset data;
            if (interactionFormat == InteractionFormat.Sequences && !filters.AnyGiven(parse))
            {
                data = SequenceFile.LoadDense(trainPath);
            }
            else
            {
                // Filtered sequence files keep their dense ids, so validation and test files stay in the same id space.
                var loaded = InteractionLoader.Read(trainPath, interactionFormat, preprocessing);
                data = loaded.Data;
                console.WriteLine($"{trainPath}: {loaded.Summary}");
            }
            var valIn = parse.GetValue(valInput);
            var valOut = parse.GetValue(valOutput);
            if ((valIn is null) != (valOut is null)) throw new ArgumentException("--val-input and --val-output must be given together.");
            List<EvaluationCase>? validation = null;
            if (valIn is not null && !parse.GetValue(noValidation)) validation = CommandErrors.ReadCases(valIn, valOut!);
            // Everything that can only fail at the end is checked now, before hours of training.
            var testIn = parse.GetValue(testInput);
            var testOut = parse.GetValue(testOutput);
            if ((testIn is null) != (testOut is null)) throw new ArgumentException("--test-input and --test-output must be given together.");
            var test = testIn is null ? null : CommandErrors.ReadCases(testIn, testOut!);
            var exportDir = parse.GetValue(export);
            var packageVersion = parse.GetValue(version) ?? $"sasrec-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
            if (exportDir is not null)
            {
                CommandErrors.CheckDirectoryTarget(exportDir, "--export");
                if (!ModelPackage.IsValidVersion(packageVersion))
                    throw new ArgumentException($"--version '{packageVersion}' must be 1-100 characters of letters, digits, '.', '_' or '-', starting with a letter or digit.");
            }
            CommandErrors.CheckDirectoryTarget(outDir, "--out");
            if (data.UserCount == 0) throw new ArgumentException($"{trainPath} holds no interactions: there is nothing to train on.");
            var largest = new[] { data.ItemCount, LargestId(validation), LargestId(test) }.Max();
            var idFile = parse.GetValue(itemIds);
            var fileIds = idFile is null ? null : ItemIdFile.Read(idFile, null, "--item-ids");
            // Items of a split that occur only as held-out targets are still in its items.tsv: the model gets a row for each.
            var itemCount = parse.GetValue(items) ?? Math.Max(largest, fileIds?.Count ?? 0);
            if (itemCount < largest) throw new ArgumentException($"--items {itemCount} is smaller than the largest item id in the data ({largest}).");
            if (idFile is not null && !data.ItemIds.SequenceEqual(SequenceDataset.IdentityVocabulary(data.ItemIds.Count), StringComparer.Ordinal))
                throw new ArgumentException($"--item-ids names the items of dense-id data, but {trainPath} ({formatName}) carries its own item ids.");
            var vocabulary = parse.GetValue(resume) ? null : Vocabulary(data, itemCount, trainPath, idFile);

            var options = new TrainingOptions
            {
                Epochs = parse.GetValue(epochs),
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(learningRate),
                LearningRateDecayEpoch = parse.GetValue(decayEpoch),
                LearningRateDecayFactor = parse.GetValue(decayFactor),
                Schedule = parse.GetValue(schedule) == "cosine" ? LearningRateSchedule.Cosine : LearningRateSchedule.Constant,
                Beta1 = parse.GetValue(beta1),
                Beta2 = parse.GetValue(beta2),
                WeightDecay = parse.GetValue(weightDecay),
                WeightAverageDecay = parse.GetValue(weightAverage),
                Loss = parse.GetValue(loss) switch { "bce" => LossKind.Bce, "gbce" => LossKind.Gbce, _ => LossKind.SoftmaxCrossEntropy },
                Negatives = parse.GetValue(negatives),
                Calibration = parse.GetValue(calibration),
                EarlierWindowRate = parse.GetValue(earlierWindows),
                UserBalance = parse.GetValue(userBalance),
                LabelSmoothing = parse.GetValue(labelSmoothing),
                FutureTargets = parse.GetValue(futureTargets),
                FutureDecay = parse.GetValue(futureDecay),
                ExcludeSeenItems = parse.GetValue(excludeSeen),
                SampledItems = parse.GetValue(sampledItems),
                SampledHeadItems = parse.GetValue(sampledHead),
                Seed = parse.GetValue(seed),
                Threads = parse.GetValue(threads),
                ValidateEvery = parse.GetValue(validateEvery),
                Patience = parse.GetValue(patience),
                TimeLimit = CommandErrors.Minutes(parse.GetValue(timeLimit), "--time-limit"),
            };
            CommandErrors.InFlagTerms(options.Validate, FlagOf);
            SasRecTrainer trainer;
            if (parse.GetValue(resume))
            {
                trainer = SasRecTrainer.Resume(outDir, options);
                if (trainer.Model.Config.ItemCount < largest)
                    throw new ArgumentException($"The checkpoint in {outDir} knows {trainer.Model.Config.ItemCount} items but the data holds id {largest}.");
                vocabulary = Vocabulary(data, trainer.Model.Config.ItemCount, trainPath, idFile);
                console.MarkupLine($"Resuming [bold]{Markup.Escape(outDir)}[/] after epoch {trainer.Epoch}.");
            }
            else
            {
                var dim = parse.GetValue(dimension);
                var config = new SasRecConfig
                {
                    ItemCount = itemCount,
                    MaxLength = parse.GetValue(maxLength),
                    Dimension = dim,
                    Blocks = parse.GetValue(blocks),
                    Heads = parse.GetValue(heads),
                    FeedForwardDimension = parse.GetValue(ffn) ?? dim,
                    Dropout = parse.GetValue(dropout),
                    PreNorm = !parse.GetValue(postNorm),
                    Activation = parse.GetValue(activation)!,
                    NormalisedResidual = parse.GetValue(normalisedResidual),
                    AttentionDropout = parse.GetValue(attentionDropout),
                    InputItemDropout = parse.GetValue(inputItemDropout),
                    PositionsFromStart = parse.GetValue(positionsFromStart),
                    SeparateOutputEmbedding = parse.GetValue(separateOutput),
                    RecencyBias = parse.GetValue(recencyBias),
                    GatedResidual = parse.GetValue(gatedResidual),
                    InitStd = parse.GetValue(initStd),
                    Temperature = parse.GetValue(temperature),
                };
                CommandErrors.InFlagTerms(config.Validate, FlagOf);
                // The text vectors are keyed as the training file names its items: dense ids for a split, whose
                // --item-ids only renames them for the package.
                var (textConfig, vectors, note) = idFile is null
                    ? TrainItemText.Apply(config, parse.GetValue(itemText)!, parse.GetValue(itemTextFile), parse.GetValue(itemIdDropout), vocabulary!)
                    : TrainItemText.Apply(config, parse.GetValue(itemText)!, parse.GetValue(itemTextFile), parse.GetValue(itemIdDropout),
                        SequenceDataset.IdentityVocabulary(vocabulary!.Count), vocabulary);
                if (note is not null) console.WriteLine(note);
                trainer = CommandErrors.InFlagTerms(() => new SasRecTrainer(new SasRecModel(textConfig, options.Seed, vectors), options), FlagOf);
            }
            var c = trainer.Model.Config;
            console.MarkupLine(Markup.Escape(
                $"{data.UserCount} sequences, {data.ItemCount} items (N = {c.ItemCount}); loss {options.Loss}{(options.SampledItems > 0 ? $" sampling {options.SampledItems} items a step{(options.SampledHeadItems > 0 ? $" ({options.SampledHeadItems} most frequent)" : "")}" : "")}{(options.ExcludeSeenItems ? " excluding seen items" : "")}{(options.LabelSmoothing > 0 ? $" with label smoothing {options.LabelSmoothing}" : "")}{(options.FutureTargets > 1 ? $" over the next {options.FutureTargets} items (decay {options.FutureDecay})" : "")}, maxlen {c.MaxLength}, dim {c.Dimension}, blocks {c.Blocks}, heads {c.Heads}, " +
                $"ffn {c.FeedForwardDimension}, dropout {c.Dropout}, attention dropout {c.AttentionDropout}, input item dropout {c.InputItemDropout}, {(c.NormalisedResidual ? "normalised-residual" : c.PreNorm ? "pre-norm" : "post-norm")}, {c.Activation}, positions from {(c.PositionsFromStart ? "start" : "end")}{(c.RecencyBias ? " with a recency bias" : "")}{(c.GatedResidual ? " with gated residuals" : "")}, init {(c.InitStd > 0 ? $"N(0, {c.InitStd}²)" : "Xavier")}, scores {(c.ScoresByCosine ? $"cosine / {c.Temperature}" : "dot")}{(c.SeparateOutputEmbedding ? " with a separate output table" : "")}; batch {options.BatchSize}, lr {options.LearningRate}{(options.UserBalance > 0 ? $", user balance {options.UserBalance}" : "")}, {options.Threads} threads" +
                (validation is null ? ", no validation." : $", {validation.Count} validation cases.")));

            var startEpoch = trainer.Epoch;
            // Ctrl+C or SIGTERM stops training at the next step, leaving the last epoch's checkpoint whole and the
            // terminal restored; a second signal ends the process at once.
            using var interrupt = new CancellationTokenSource();
            var signal = 0;
            var interactive = console.Profile.Capabilities.Interactive;
            void OnSignal(PosixSignalContext context)
            {
                if (interrupt.IsCancellationRequested)
                {
                    // The second signal ends the process at once: give the terminal its cursor back first.
                    if (interactive) Console.Out.Write("\u001b[?25h");
                    return;
                }
                context.Cancel = true;
                signal = context.Signal == PosixSignal.SIGTERM ? 15 : 2;
                interrupt.Cancel();
            }
            TrainingResult result;
            // Only while training: afterwards (scoring the test set, exporting) a signal ends the process as usual.
            using (PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal))
            using (PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal))
            {
                result = interactive
                    ? TrainWithBar(console, trainer, data, validation, outDir, interrupt.Token)
                    : trainer.Train(data.Sequences, validation, outDir, new SynchronousProgress(p => { if (p.Completed is { } e) console.WriteLine(Describe(e)); }), interrupt.Token);
            }
            if (result.Outcome == TrainingOutcome.Diverged)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: {result.Message}");
                return 2;
            }
            if (result.Outcome == TrainingOutcome.Interrupted || interrupt.IsCancellationRequested)
            {
                // A signal during the last epoch's validation or checkpoint finds no step left to stop at: the run is
                // whole, but what was asked after it (test scores, the export) is not done.
                parse.InvocationConfiguration.Error.WriteLine(result.Outcome == TrainingOutcome.Interrupted ? result.Message
                    : $"Interrupted after the last epoch ({result.EpochsRun}); its checkpoint is in {outDir}; nothing was scored or exported.");
                return 128 + signal;
            }
            console.MarkupLine(Markup.Escape($"{result.Outcome}: {result.Message} Best epoch {result.BestEpoch}" +
                (result.BestValidationNdcg10 is { } best ? $", validation NDCG@10 {best:F4}." : ".")));
            var timed = result.Curve.Where(r => r.Epoch > startEpoch).ToArray();
            if (timed.Length > 0)
                console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mean epoch {timed.Average(r => r.Seconds):F2} s, {timed.Average(r => r.PositionsPerSecond):F0} positions/s"));

            var bestModel = SasRecModel.Load(Path.Combine(outDir, SasRecTrainer.BestModelFile));
            var metrics = new Dictionary<string, double>();
            if (validation is not null)
            {
                var m = SasRecTrainer.Evaluate(bestModel, validation);
                metrics["val_ndcg@10"] = m.Ndcg(10);
                metrics["val_hr@10"] = m.HitRate(10);
            }
            if (test is not null)
            {
                var m = SasRecTrainer.Evaluate(bestModel, test);
                metrics["test_ndcg@10"] = m.Ndcg(10);
                metrics["test_recall@10"] = m.HitRate(10);
                metrics["test_recall@1"] = m.HitRate(1);
                console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"test (best checkpoint, full ranking, seen items removed, {m.Count} cases): NDCG@10 {m.Ndcg(10):F4}, Recall@10 {m.HitRate(10):F4}, Recall@1 {m.HitRate(1):F4}"));
            }

            if (exportDir is not null)
            {
                var training = new JsonObject
                {
                    ["loss"] = options.Loss.ToString(), ["epochs"] = result.BestEpoch, ["batchSize"] = options.BatchSize, ["learningRate"] = options.LearningRate, ["learningRateDecayEpoch"] = options.LearningRateDecayEpoch, ["learningRateDecayFactor"] = options.LearningRateDecayFactor, ["learningRateSchedule"] = options.Schedule.ToString().ToLowerInvariant(),
                    ["dropout"] = c.Dropout, ["blocks"] = c.Blocks, ["heads"] = c.Heads, ["feedForwardDimension"] = c.FeedForwardDimension,
                    ["preNorm"] = c.PreNorm, ["activation"] = c.Activation, ["attentionDropout"] = c.AttentionDropout, ["inputItemDropout"] = c.InputItemDropout, ["normalisedResidual"] = c.NormalisedResidual, ["positionsFromStart"] = c.PositionsFromStart, ["separateOutputEmbedding"] = c.SeparateOutputEmbedding, ["recencyBias"] = c.RecencyBias, ["gatedResidual"] = c.GatedResidual, ["initStd"] = c.InitStd, ["temperature"] = c.Temperature, ["seed"] = options.Seed, ["earlierWindowRate"] = options.EarlierWindowRate, ["userBalance"] = options.UserBalance, ["excludeSeen"] = options.ExcludeSeenItems, ["sampledItems"] = options.SampledItems, ["sampledHeadItems"] = options.SampledHeadItems, ["labelSmoothing"] = options.LabelSmoothing, ["futureTargets"] = options.FutureTargets, ["futureDecay"] = options.FutureDecay,
                };
                var package = SasRecExporter.Export(bestModel, vocabulary!, packageVersion, training, metrics);
                package.Save(exportDir);
                console.MarkupLine($"Exported the best model (epoch {result.BestEpoch}) to [bold]{Markup.Escape(exportDir)}[/].");
            }
            return 0;
        }
    }

    /// <summary>recommender train score: full-ranking metrics of a checkpoint through the trainer's own forward pass.</summary>
    private static Command ScoreCommand()
    {
        var model = new Option<string>("--model") { Description = "Checkpoint written by training (e.g. best.model).", Required = true };
        var input = new Option<string>("--input") { Description = "Histories: one sequence of dense item ids per line.", Required = true };
        var output = new Option<string>("--output") { Description = "Held-out next item for each line of --input.", Required = true };
        var command = new Command("score", "HR@K / NDCG@K / MRR of a training checkpoint, all items ranked, seen items removed.") { model, input, output };
        command.SetAction(p => CommandErrors.Guard(p, () =>
        {
            var checkpoint = SasRecModel.Load(p.GetValue(model)!);
            var cases = CommandErrors.ReadCases(p.GetValue(input)!, p.GetValue(output)!);
            var m = SasRecTrainer.Evaluate(checkpoint, cases);
            p.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{m.Count} cases: NDCG@10 {m.Ndcg(10):F4}, Recall@10 {m.HitRate(10):F4}, Recall@1 {m.HitRate(1):F4}, NDCG@20 {m.Ndcg(20):F4}, Recall@20 {m.HitRate(20):F4}, MRR {m.Mrr:F4}"));
            return 0;
        }));
        return command;
    }

    private static int LargestId(List<EvaluationCase>? cases) =>
        cases is null ? 0 : cases.Max(c => Math.Max(c.Target, c.History.DefaultIfEmpty(0).Max()));

    /// <summary>
    /// External id of every dense item 1..<paramref name="itemCount"/>. Dense sequence files name items by their dense ids,
    /// so a larger catalogue extends the identity; data with its own ids (MovieLens, pairs, event exports) has no id to
    /// give an extra row, so asking for more items than it holds is an error rather than a package of invented ids.
    /// </summary>
    private static IReadOnlyList<string> Vocabulary(SequenceDataset data, int itemCount, string trainPath, string? idFile)
    {
        if (idFile is not null)
        {
            var ids = ItemIdFile.Read(idFile, null, "--item-ids");
            return ids.Count == itemCount ? ids
                : throw new ArgumentException($"{idFile} lists {ids.Count} item ids, but the model has {itemCount} items (--items or the largest id in the data).");
        }
        if (data.ItemIds.Count == itemCount) return data.ItemIds;
        var identity = SequenceDataset.IdentityVocabulary(data.ItemIds.Count);
        if (data.ItemIds.SequenceEqual(identity, StringComparer.Ordinal)) return SequenceDataset.IdentityVocabulary(itemCount);
        throw new ArgumentException($"{trainPath} holds {data.ItemIds.Count} items with their own ids, but the run needs {itemCount} " +
            $"(--items or the validation/test ids): the extra items would have no id. Keep validation and test ids within 1..{data.ItemIds.Count}, or drop --items.");
    }

    // The library names what is wrong by its property (Dimension); the user typed a flag (--dim).
    private static readonly Dictionary<string, string> FlagOf = new(StringComparer.Ordinal)
    {
        [nameof(SasRecConfig.ItemCount)] = "--items",
        [nameof(SasRecConfig.MaxLength)] = "--max-length",
        [nameof(SasRecConfig.Dimension)] = "--dim",
        [nameof(SasRecConfig.Heads)] = "--heads",
        [nameof(SasRecConfig.Blocks)] = "--blocks",
        [nameof(SasRecConfig.FeedForwardDimension)] = "--ffn-dim",
        [nameof(SasRecConfig.InitStd)] = "--init-std",
        [nameof(SasRecConfig.Dropout)] = "--dropout",
        [nameof(SasRecConfig.AttentionDropout)] = "--attention-dropout",
        [nameof(SasRecConfig.InputItemDropout)] = "--input-item-dropout",
        [nameof(SasRecConfig.ItemIdDropout)] = "--item-id-dropout",
        [nameof(SasRecConfig.Temperature)] = "--temperature",
        [nameof(TrainingOptions.Epochs)] = "--epochs",
        [nameof(TrainingOptions.BatchSize)] = "--batch-size",
        [nameof(TrainingOptions.LearningRateDecayEpoch)] = "--lr-decay-epoch",
        [nameof(TrainingOptions.ValidateEvery)] = "--validate-every",
        [nameof(TrainingOptions.LearningRate)] = "--lr",
        [nameof(TrainingOptions.LearningRateDecayFactor)] = "--lr-decay-factor",
        [nameof(TrainingOptions.Schedule)] = "--lr-schedule",
        [nameof(TrainingOptions.Beta1)] = "--beta1",
        [nameof(TrainingOptions.UserBalance)] = "--user-balance",
        [nameof(TrainingOptions.LabelSmoothing)] = "--label-smoothing",
        [nameof(TrainingOptions.FutureTargets)] = "--future-targets",
        [nameof(TrainingOptions.FutureDecay)] = "--future-decay",
        [nameof(TrainingOptions.Beta2)] = "--beta2",
        [nameof(TrainingOptions.WeightDecay)] = "--weight-decay",
        [nameof(TrainingOptions.WeightAverageDecay)] = "--weight-average",
        [nameof(TrainingOptions.Negatives)] = "--negatives",
        [nameof(TrainingOptions.Calibration)] = "--calibration",
        [nameof(TrainingOptions.EarlierWindowRate)] = "--earlier-window-rate",
        [nameof(TrainingOptions.ExcludeSeenItems)] = "--exclude-seen",
        [nameof(TrainingOptions.SampledItems)] = "--sampled-items",
        [nameof(TrainingOptions.SampledHeadItems)] = "--sampled-head",
        [nameof(TrainingOptions.Threads)] = "--threads",
        [nameof(TrainingOptions.Patience)] = "--patience",
    };

    private static TrainingResult TrainWithBar(IAnsiConsole console, SasRecTrainer trainer, SequenceDataset data, List<EvaluationCase>? validation, string outDir, CancellationToken cancellation)
    {
        TrainingResult? result = null;
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask("epoch", maxValue: 1);
                var progress = new SynchronousProgress(p =>
                {
                    if (p.Completed is { } e)
                    {
                        console.WriteLine(Describe(e));
                        return;
                    }
                    task.MaxValue = p.Batches;
                    task.Value = p.Batch;
                    task.Description = string.Create(CultureInfo.InvariantCulture, $"epoch {p.Epoch}/{p.Epochs} loss {p.Loss:F4} {p.PositionsPerSecond:F0} pos/s");
                });
                result = trainer.Train(data.Sequences, validation, outDir, progress, cancellation);
            });
        return result!;
    }

    private static string Describe(EpochRecord e) =>
        string.Create(CultureInfo.InvariantCulture, $"epoch {e.Epoch}: loss {e.Loss:F4}, {e.Seconds:F2} s, {e.PositionsPerSecond:F0} positions/s") +
        (e.ValidationNdcg10 is { } n ? string.Create(CultureInfo.InvariantCulture, $", val NDCG@10 {n:F4}, HR@10 {e.ValidationHr10:F4}") : "");

    /// <summary>Reports on the training thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
