using System.Diagnostics;
using System.Text;
using Recommender.Model.Data;
using Recommender.Model.Evaluation;
using Recommender.Model.Nn;
using Recommender.Model.Sasrec;

namespace Recommender.Model.Training;

/// <summary>
/// Trains a <see cref="SasRecModel"/> on next-item prediction. Each training sequence s of length ≥ 2 becomes one
/// left-padded example: inputs s[:-1], targets s[1:], the last MaxLength positions (a shorter sequence contributes
/// no training position). Every random choice is derived from (seed, epoch, step, row) and each worker thread owns a
/// fixed slice of every batch, so a run is exactly reproducible for a given seed and thread count, and resuming
/// from a checkpoint continues it bit for bit.
/// Writes into the output directory: last.model + last.state (every epoch), best.model (best validation NDCG@10,
/// or the last epoch without validation), curve.csv and curve.png. With a weight average, validation and best.model
/// use the averaged weights and last.model the raw ones training continues from. The state names the model it
/// belongs to (a SHA-256 of its weights), and the pair is committed state first, then model, so that a run killed
/// between the two is completed on resume instead of continuing from mismatched files.
/// </summary>
public sealed class SasRecTrainer
{
    public const string LastModelFile = "last.model";
    public const string LastStateFile = "last.state";
    public const string BestModelFile = "best.model";
    public const string CurveCsvFile = "curve.csv";
    public const string CurvePngFile = "curve.png";
    private const string StateMagic = "SASREC-TRAINER-STATE-3";
    // Version 2 states (no model digest) and version 1 states (no weight-average section either) are still read.
    private const string StateMagicWithoutDigest = "SASREC-TRAINER-STATE-2";
    private const string StateMagicWithoutAverage = "SASREC-TRAINER-STATE-1";
    private const string PendingModelSuffix = ".next";
    private const long DropoutStream = 0xD80;
    private const long NegativeStream = 0x4E6;
    private const long ShuffleStream = 0x5F1;
    private const long IdDropoutStream = 0x1DD;
    private const long WindowStream = 0x771D;
    private const long SampleStream = 0x5A3;

    private readonly SequenceLoss _loss;
    private readonly List<EpochRecord> _curve = [];
    private readonly Worker[] _workers;
    private double? _bestNdcg;
    private int _bestEpoch;
    private int _validationsWithoutImprovement;

    public SasRecTrainer(SasRecModel model, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (model.Config.ScoresByCosine && options.Loss != LossKind.SoftmaxCrossEntropy)
            throw new ArgumentException($"A temperature (cosine scores) is trained with the ce loss only, not {options.Loss}.", nameof(options));
        if (model.Config.ScoresByCosine && options.SampledItems > 0 && options.SampledItems < model.Config.ItemCount)
            throw new ArgumentException("A temperature (cosine scores) is trained with the full softmax; SampledItems needs the dot product.", nameof(options));
        Model = model;
        Options = options;
        _loss = SequenceLoss.Create(options.Loss, model.Config.ItemCount, options.Negatives, options.Calibration, options.ExcludeSeenItems, options.LabelSmoothing, options.FutureTargets, options.FutureDecay, options.SampledItems, options.SampledHeadItems);
        Optimizer = new AdamOptimizer(model, options.LearningRate, options.Beta1, options.Beta2, weightDecay: options.WeightDecay);
        _workers = Enumerable.Range(0, options.Threads).Select(_ => new Worker(model, _loss)).ToArray();
        if (options.WeightAverageDecay > 0) Average = new WeightAverage(model, options.WeightAverageDecay);
    }

    public SasRecModel Model { get; }

    public TrainingOptions Options { get; }

    public AdamOptimizer Optimizer { get; }

    /// <summary>The moving average of the weights that validation and best.model use; null when the options ask for none.</summary>
    public WeightAverage? Average { get; }

    /// <summary>Epochs completed (including those before a resume).</summary>
    public int Epoch { get; private set; }

    public IReadOnlyList<EpochRecord> Curve => _curve;

    /// <summary>Continues the run saved in <paramref name="directory"/> (last.model + last.state) with the given options.</summary>
    public static SasRecTrainer Resume(string directory, TrainingOptions options)
    {
        var modelPath = Path.Combine(directory, LastModelFile);
        var statePath = Path.Combine(directory, LastStateFile);
        var digest = ReadModelDigest(statePath);
        bool Matches(SasRecModel m) => digest is null || Digest(m).SequenceEqual(digest);
        var pending = modelPath + PendingModelSuffix;
        var model = File.Exists(modelPath) ? SasRecModel.Load(modelPath) : null;
        if ((model is null || !Matches(model)) && digest is not null && File.Exists(pending))
        {
            // Killed after the state was committed and before the model was: the pending model completes the pair.
            var next = SasRecModel.Load(pending);
            if (!Matches(next))
                throw new InvalidDataException($"'{statePath}' belongs to neither '{modelPath}' nor '{pending}'; the checkpoint cannot be resumed.");
            File.Move(pending, modelPath, overwrite: true);
            model = next;
        }
        model ??= SasRecModel.Load(modelPath);
        if (!Matches(model))
            throw new InvalidDataException($"'{statePath}' was written for other weights than '{modelPath}' holds; the checkpoint cannot be resumed.");
        var trainer = new SasRecTrainer(model, options);
        trainer.LoadState(statePath);
        return trainer;
    }

    /// <summary>
    /// Trains until Options.Epochs, early stopping, the time limit or a non-finite loss. <paramref name="validation"/>
    /// (may be null) is ranked against the whole catalogue with seen items removed.
    /// </summary>
    /// <exception cref="ArgumentException">No sequence has two or more events, or an id is outside 1..ItemCount.</exception>
    public TrainingResult Train(IReadOnlyList<int[]> sequences, IReadOnlyList<EvaluationCase>? validation, string? outputDirectory,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        var trainable = TrainableSequences(sequences, Model.Config.ItemCount);
        _loss.Observe(sequences);
        if (outputDirectory is not null)
        {
            Directory.CreateDirectory(outputDirectory);
            // A new run owns the directory: an earlier run's best model must not be taken for its own, nor its
            // checkpoint resumed as if it were this run's.
            if (Epoch == 0)
                foreach (var file in new[] { BestModelFile, LastModelFile, LastModelFile + PendingModelSuffix, LastStateFile, CurveCsvFile, CurvePngFile })
                    File.Delete(Path.Combine(outputDirectory, file));
        }
        var started = Stopwatch.StartNew();
        // In long: a batch size near int.MaxValue would overflow the rounding up and leave no batch at all.
        var batches = (int)((trainable.Length + (long)Options.BatchSize - 1) / Options.BatchSize);
        var order = new int[trainable.Length];
        while (Epoch < Options.Epochs)
        {
            if (cancellationToken.IsCancellationRequested) return Interrupted(Epoch + 1);
            var epoch = Epoch + 1;
            Optimizer.LearningRate = Options.LearningRateAt(epoch);
            var clock = Stopwatch.StartNew();
            trainable.CopyTo(order, 0);
            Shuffle(order, SplitMix.For(Options.Seed, ShuffleStream, epoch));
            double lossSum = 0;
            long positions = 0;
            for (var b = 0; b < batches; b++)
            {
                if (cancellationToken.IsCancellationRequested) return Interrupted(epoch);
                var batch = order.AsSpan(b * Options.BatchSize, Math.Min(Options.BatchSize, order.Length - b * Options.BatchSize));
                if (Options.Schedule != LearningRateSchedule.Constant) Optimizer.LearningRate = Options.LearningRateAt(epoch, Progress(epoch, b, batches, started.Elapsed));
                var (stepLoss, stepPositions) = Step(sequences, batch, epoch, b);
                if (!double.IsFinite(stepLoss))
                {
                    var kept = outputDirectory is null ? "no checkpoint directory was given" :
                        Epoch == 0 ? $"no epoch had completed, so {outputDirectory} holds no checkpoint of this run" :
                        $"the last good checkpoint (epoch {Epoch}) is kept in {outputDirectory}";
                    var message = $"Training diverged: the loss became {stepLoss} in epoch {epoch}, step {b + 1} of {batches}; {kept}. Lower the learning rate.";
                    return new TrainingResult(TrainingOutcome.Diverged, message, Epoch, _bestEpoch, _bestNdcg, _curve.ToArray());
                }
                lossSum += stepLoss;
                positions += stepPositions;
                var elapsed = clock.Elapsed.TotalSeconds;
                progress?.Report(new TrainingProgress(epoch, Options.Epochs, b + 1, batches, lossSum / positions, positions / elapsed,
                    TimeSpan.FromSeconds(elapsed / (b + 1) * (batches - b - 1))));
            }
            var trainSeconds = clock.Elapsed.TotalSeconds;
            double? ndcg = null, hr = null;
            Average?.Swap();
            // The epoch the time limit ends the run with is validated too, so that a stopped run has a best model.
            var lastEpoch = epoch == Options.Epochs || (Options.TimeLimit is { } timeLimit && started.Elapsed >= timeLimit);
            if (validation is { Count: > 0 } && (epoch % Options.ValidateEvery == 0 || lastEpoch))
            {
                var metrics = Evaluate(Model, validation);
                ndcg = metrics.Ndcg(10);
                hr = metrics.HitRate(10);
            }
            Epoch = epoch;
            var record = new EpochRecord(epoch, lossSum / positions, ndcg, hr, clock.Elapsed.TotalSeconds, positions / trainSeconds);
            _curve.Add(record);
            var improved = false;
            if (ndcg is { } value)
            {
                if (_bestNdcg is null || value > _bestNdcg)
                {
                    _bestNdcg = value;
                    _bestEpoch = epoch;
                    _validationsWithoutImprovement = 0;
                    improved = true;
                }
                else _validationsWithoutImprovement++;
            }
            else if (validation is not { Count: > 0 })
            {
                // Without validation the last epoch is the best model; a score from validations before a resume
                // belongs to another epoch's weights.
                _bestEpoch = epoch;
                _bestNdcg = null;
                _validationsWithoutImprovement = 0;
                improved = true;
            }
            // The weights validated are the ones best.model keeps; last.model keeps those training continues from.
            if (improved && outputDirectory is not null) Model.Save(Path.Combine(outputDirectory, BestModelFile));
            Average?.Swap();
            if (outputDirectory is not null) SaveCheckpoint(outputDirectory);
            progress?.Report(new TrainingProgress(epoch, Options.Epochs, batches, batches, record.Loss, record.PositionsPerSecond, TimeSpan.Zero, record));
            if (_validationsWithoutImprovement >= Options.Patience)
                return Finish(TrainingOutcome.EarlyStopped, $"Validation NDCG@10 did not improve for {Options.Patience} validations; best {_bestNdcg:F4} at epoch {_bestEpoch}.");
            if (Options.TimeLimit is { } limit && started.Elapsed >= limit && Epoch < Options.Epochs)
                return Finish(TrainingOutcome.TimeLimit, $"Stopped after epoch {Epoch}: the time limit of {limit} was reached.");
        }
        return Finish(TrainingOutcome.Completed, $"Trained {Epoch} epochs.");

        // The share of the run done before a step: of its epochs or of its time limit, whichever is further on.
        double Progress(int epoch, int step, int batches, TimeSpan elapsed)
        {
            var byEpochs = (epoch - 1 + (double)step / batches) / Options.Epochs;
            return Options.TimeLimit is { } limit ? Math.Max(byEpochs, elapsed / limit) : byEpochs;
        }

        TrainingResult Finish(TrainingOutcome outcome, string message) =>
            new(outcome, message, Epoch, _bestEpoch, _bestNdcg, _curve.ToArray());

        TrainingResult Interrupted(int epoch) => Finish(TrainingOutcome.Interrupted, Epoch == 0
            ? $"Interrupted in epoch {epoch}, before any epoch had completed: there is no checkpoint of this run."
            : outputDirectory is null ? $"Interrupted in epoch {epoch}; no checkpoint directory was given."
            : $"Interrupted in epoch {epoch}; the checkpoint of epoch {Epoch} is in {outputDirectory} (continue with --resume).");
    }

    /// <summary>Full-ranking HR/NDCG (cut-offs 1, 5, 10, 20) of the model's eval-mode forward on the given cases, seen items removed.</summary>
    public static RankingMetrics Evaluate(SasRecModel model, IReadOnlyList<EvaluationCase> cases) =>
        FullRankingEvaluator.Evaluate(model.Encode, model.ItemEmbeddings(), model.Config.Dimension, cases, removeSeen: true, batchSize: 256, 1, 5, 10, 20);

    /// <summary>Indices of the sequences that yield at least one training position; validates every id.</summary>
    internal static int[] TrainableSequences(IReadOnlyList<int[]> sequences, int itemCount)
    {
        var result = new List<int>();
        for (var u = 0; u < sequences.Count; u++)
        {
            var s = sequences[u] ?? throw new ArgumentException($"Training sequence {u} is null.", nameof(sequences));
            foreach (var id in s)
                if (id < 1 || id > itemCount)
                    throw new ArgumentException($"Training sequence {u} holds item {id}, outside 1..{itemCount}.", nameof(sequences));
            if (s.Length >= 2) result.Add(u);
        }
        if (result.Count == 0)
            throw new ArgumentException(sequences.Count == 0
                ? "The training set is empty: there are no sequences to train on."
                : $"The training set has {sequences.Count} sequences but none with at least two events, so there is no next item to learn.", nameof(sequences));
        return result.ToArray();
    }

    /// <summary>One optimiser step over the given sequences; returns the summed loss and the number of positions.</summary>
    internal (double Loss, long Positions) Step(IReadOnlyList<int[]> sequences, ReadOnlySpan<int> batch, int epoch, int step)
    {
        var model = Model;
        var l = model.Config.MaxLength;
        var examples = new Example[batch.Length];
        var negativesRng = SplitMix.For(Options.Seed, NegativeStream, epoch, step);
        var windowRng = SplitMix.For(Options.Seed, WindowStream, epoch, step);
        long total = 0;
        for (var j = 0; j < batch.Length; j++)
        {
            var s = sequences[batch[j]];
            var n = Math.Min(s.Length - 1, l);
            var negatives = new int[_loss.NegativeCount(n)];
            for (var i = 0; i < negatives.Length; i++) negatives[i] = 1 + negativesRng.NextInt(model.Config.ItemCount);
            examples[j] = new Example(s, WindowStart(s.Length, l, Options.EarlierWindowRate, ref windowRng), n, negatives);
            total += n;
        }
        model.RefreshTransposes();
        model.Representation?.DropIds(SplitMix.For(Options.Seed, IdDropoutStream, epoch, step));
        _loss.Prepare(model, SplitMix.For(Options.Seed, SampleStream, epoch, step));
        var scale = 1f / total;
        // With user balance a sequence of n positions has per-position weight n^−a, normalised so the weights sum to 1.
        var balance = Options.UserBalance;
        var weightSum = balance > 0 ? examples.Sum(e => Math.Pow(e.Rows, 1 - balance)) : 0;
        var bounds = Partition(examples, _workers.Length);
        Parallel.For(0, _workers.Length, new ParallelOptions { MaxDegreeOfParallelism = _workers.Length }, w =>
        {
            var worker = _workers[w];
            worker.Clear();
            for (var j = bounds[w]; j < bounds[w + 1]; j++)
            {
                var e = examples[j];
                var rng = SplitMix.For(Options.Seed, DropoutStream, epoch, ((long)step << 20) + j);
                var inputs = e.Sequence.AsSpan(e.Start, e.Rows);
                var targets = e.Sequence.AsSpan(e.Start + 1, e.Rows);
                worker.Pass.Forward(model, inputs, training: true, ref rng);
                var dY = worker.OutputGradient.AsSpan(0, e.Rows * model.Config.Dimension);
                var weight = balance > 0 ? (float)(Math.Pow(e.Rows, -balance) / weightSum) : scale;
                worker.Loss += worker.LossWorker.Compute(worker.Pass.Output, e.Rows, targets, e.Sequence.AsSpan(0, e.Start + e.Rows), e.Negatives, weight, dY, worker.Grads);
                worker.Pass.Backward(model, dY, worker.Grads);
            }
            worker.LossWorker.Flush(worker.Grads);
        });
        double loss = 0;
        for (var p = 0; p < model.Parameters.Count; p++)
        {
            var grad = model.Parameters[p].Grad;
            _workers[0].Grads[p].CopyTo(grad, 0);
            for (var w = 1; w < _workers.Length; w++)
                System.Numerics.Tensors.TensorPrimitives.Add(grad, _workers[w].Grads[p], grad);
        }
        foreach (var worker in _workers) loss += worker.Loss;
        if (double.IsFinite(loss))
        {
            // A text-built item table passes its gradient on to its parts ...
            model.Representation?.Backward(model.Parameters.Select(p => p.Grad).ToArray());
            Optimizer.Update();
            Average?.Update(Optimizer.Step);
        }
        // ... and is rebuilt from them, which also ends this step's id dropout.
        model.Representation?.Materialise();
        return (loss, total);
    }

    /// <summary>
    /// First input index of the training window of a sequence of <paramref name="length"/> events: inputs are
    /// s[start .. start + n − 1] and targets one further, n = min(length − 1, maxLength). The most recent window, except
    /// that a longer sequence takes a uniformly chosen window (possibly the most recent) with probability <paramref name="earlierRate"/>.
    /// </summary>
    internal static int WindowStart(int length, int maxLength, double earlierRate, ref SplitMix rng)
    {
        var last = length - 1 - Math.Min(length - 1, maxLength);
        if (last == 0 || earlierRate <= 0 || rng.NextDouble() >= earlierRate) return last;
        return rng.NextInt(last + 1);
    }

    /// <summary>Contiguous slices of the batch with roughly equal work, fixed for a given batch.</summary>
    private static int[] Partition(Example[] examples, int workers)
    {
        var bounds = new int[workers + 1];
        double total = examples.Sum(Cost), running = 0;
        var w = 1;
        for (var j = 0; j < examples.Length && w < workers; j++)
        {
            running += Cost(examples[j]);
            while (w < workers && running >= total * w / workers) bounds[w++] = j + 1;
        }
        while (w <= workers) bounds[w++] = examples.Length;
        return bounds;

        static double Cost(Example e) => e.Rows * (64.0 + e.Rows);
    }

    private static void Shuffle(int[] values, SplitMix rng)
    {
        for (var i = values.Length - 1; i > 0; i--)
        {
            var j = rng.NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    private void SaveCheckpoint(string directory)
    {
        // Model written aside, state committed (naming the model), model committed: see Resume for the recovery.
        var model = Path.Combine(directory, LastModelFile);
        Model.Save(model + PendingModelSuffix);
        SaveState(Path.Combine(directory, LastStateFile), Digest(Model));
        File.Move(model + PendingModelSuffix, model, overwrite: true);
        TrainingCurve.WriteCsv(Path.Combine(directory, CurveCsvFile), _curve);
        TrainingCurve.WritePng(Path.Combine(directory, CurvePngFile), _curve);
    }

    private void SaveState(string path, byte[] modelDigest)
    {
        var temporary = path + ".tmp";
        using (var writer = new BinaryWriter(File.Create(temporary), Encoding.UTF8))
        {
            writer.Write(StateMagic);
            writer.Write(modelDigest);
            writer.Write(Epoch);
            writer.Write(_bestEpoch);
            writer.Write(_bestNdcg ?? double.NaN);
            writer.Write(_validationsWithoutImprovement);
            writer.Write(_curve.Count);
            foreach (var r in _curve)
            {
                writer.Write(r.Epoch);
                writer.Write(r.Loss);
                writer.Write(r.ValidationNdcg10 ?? double.NaN);
                writer.Write(r.ValidationHr10 ?? double.NaN);
                writer.Write(r.Seconds);
                writer.Write(r.PositionsPerSecond);
            }
            Optimizer.Save(writer);
            writer.Write(Average is not null);
            Average?.Save(writer);
        }
        File.Move(temporary, path, overwrite: true);
    }

    private const int DigestLength = 32;

    /// <summary>SHA-256 of the model's weights: what a state file records to name the model it was saved with.</summary>
    private static byte[] Digest(SasRecModel model)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var p in model.Parameters) hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(p.Data.AsSpan()));
        return hash.GetHashAndReset();
    }

    /// <summary>The model digest a state file records; null for older states without one, or when the file is missing or not a state.</summary>
    private static byte[]? ReadModelDigest(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
            if (reader.ReadString() != StateMagic) return null;
            var digest = reader.ReadBytes(DigestLength);
            return digest.Length == DigestLength ? digest : null;
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or FormatException)
        {
            return null;
        }
    }

    private void LoadState(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Trainer state '{path}' does not exist.", path);
        try
        {
            ReadState(path);
        }
        // What a damaged file raises inside the reader, turned into one error type that names the file.
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"'{path}' is truncated: it ends before the trainer state does.", e);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"'{path}' is damaged: {e.Message}", e);
        }
    }

    private void ReadState(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
        var magic = reader.ReadString();
        if (magic != StateMagic && magic != StateMagicWithoutDigest && magic != StateMagicWithoutAverage) throw new InvalidDataException($"'{path}' is not a trainer state file.");
        if (magic == StateMagic) reader.ReadBytes(DigestLength);
        Epoch = reader.ReadInt32();
        _bestEpoch = reader.ReadInt32();
        var best = reader.ReadDouble();
        _bestNdcg = double.IsNaN(best) ? null : best;
        _validationsWithoutImprovement = reader.ReadInt32();
        var count = reader.ReadInt32();
        if (count < 0 || Epoch < 0) throw new InvalidDataException($"'{path}' records {count} curve rows after epoch {Epoch}; it is damaged.");
        _curve.Clear();
        for (var i = 0; i < count; i++)
        {
            var epoch = reader.ReadInt32();
            var loss = reader.ReadDouble();
            var ndcg = reader.ReadDouble();
            var hr = reader.ReadDouble();
            _curve.Add(new EpochRecord(epoch, loss, double.IsNaN(ndcg) ? null : ndcg, double.IsNaN(hr) ? null : hr, reader.ReadDouble(), reader.ReadDouble()));
        }
        Optimizer.Load(reader);
        // A run resumed with a weight average it did not have starts the average from the current weights; one
        // resumed without the average it had drops it.
        if (magic != StateMagicWithoutAverage && reader.ReadBoolean())
        {
            if (Average is not null) Average.Load(reader);
            else WeightAverage.Skip(reader, Model);
        }
        // The optimiser state is sized by the model: bytes left over mean the state belongs to another model.
        if (reader.BaseStream.Position != reader.BaseStream.Length)
            throw new InvalidDataException($"'{path}' has {reader.BaseStream.Length - reader.BaseStream.Position} bytes after the optimiser state; it belongs to a model of another shape.");
    }

    private sealed record Example(int[] Sequence, int Start, int Rows, int[] Negatives);

    /// <summary>A thread's private pass buffers, loss scratch and gradient accumulators.</summary>
    private sealed class Worker(SasRecModel model, SequenceLoss loss)
    {
        public SequencePass Pass { get; } = new(model.Config);

        public LossWorker LossWorker { get; } = loss.CreateWorker(model);

        public float[][] Grads { get; } = model.Parameters.Select(p => new float[p.Data.Length]).ToArray();

        public float[] OutputGradient { get; } = new float[model.Config.MaxLength * model.Config.Dimension];

        public double Loss { get; set; }

        public void Clear()
        {
            foreach (var g in Grads) Array.Clear(g);
            Loss = 0;
        }
    }
}
