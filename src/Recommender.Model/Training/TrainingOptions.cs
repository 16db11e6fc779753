namespace Recommender.Model.Training;

/// <summary>Hyper-parameters and bookkeeping of a training run (the model's shape lives in SasRecConfig).</summary>
public sealed record TrainingOptions
{
    public int Epochs { get; init; } = 200;

    /// <summary>Sequences per optimiser step.</summary>
    public int BatchSize { get; init; } = 128;

    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Last epoch trained at the full learning rate; later epochs use it times <see cref="LearningRateDecayFactor"/>. Null keeps it constant.</summary>
    public int? LearningRateDecayEpoch { get; init; }

    public double LearningRateDecayFactor { get; init; } = 0.25;

    /// <summary>
    /// <see cref="LearningRateSchedule.Cosine"/> anneals the rate to zero over the run; the step decay above keeps
    /// the schedule constant.
    /// </summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;

    /// <summary>The learning rate of a (1-based) epoch: a function of the epoch alone, so a resumed run follows the same schedule.</summary>
    public double LearningRateAt(int epoch) =>
        LearningRateDecayEpoch is { } last && epoch > last ? LearningRate * LearningRateDecayFactor : LearningRate;

    /// <summary>
    /// The learning rate of a step in an epoch, <paramref name="progress"/> being the share of the run done, in
    /// [0, 1] (values outside are clamped).
    /// </summary>
    public double LearningRateAt(int epoch, double progress) => Schedule switch
    {
        LearningRateSchedule.Cosine => LearningRate * 0.5 * (1 + Math.Cos(Math.PI * Math.Clamp(progress, 0, 1))),
        _ => LearningRateAt(epoch),
    };

    public double Beta1 { get; init; } = 0.9;

    public double Beta2 { get; init; } = 0.98;

    /// <summary>Decoupled (AdamW) weight decay on matrices; 0 is plain Adam.</summary>
    public double WeightDecay { get; init; }

    /// <summary>
    /// Decay of the exponential moving average of the weights that validation and best.model use (see
    /// <see cref="WeightAverage"/>), in [0, 1); 0 validates and saves the raw weights.
    /// </summary>
    public double WeightAverageDecay { get; init; }

    public LossKind Loss { get; init; } = LossKind.SoftmaxCrossEntropy;

    /// <summary>
    /// Softmax cross-entropy only: each position's softmax leaves out the items the user already had (all but the
    /// target), as ranking with seen items removed does, so no capacity is spent pushing them down.
    /// </summary>
    public bool ExcludeSeenItems { get; init; }

    /// <summary>
    /// Softmax cross-entropy only, in [0, 1): the share ε of each position's target spread evenly over the items its
    /// softmax runs over (1 − ε stays on the next item); 0 is plain cross-entropy.
    /// </summary>
    public double LabelSmoothing { get; init; }

    /// <summary>
    /// Softmax cross-entropy only: how many of the following items each position is trained to predict (1: the next
    /// item alone). Item t + k weighs <see cref="FutureDecay"/>^(k−1); the weights are scaled to sum to 1.
    /// </summary>
    public int FutureTargets { get; init; } = 1;

    /// <summary>Weight of each further target relative to the one before, in (0, 1].</summary>
    public double FutureDecay { get; init; } = 0.5;

    /// <summary>
    /// Softmax cross-entropy only: 0 runs each softmax over the whole catalogue; K &gt; 0 over the target and K items
    /// drawn uniformly for each step (<see cref="SampledSoftmaxLoss"/>), which costs about K/N of the full loss. A K of
    /// N or more is the full softmax.
    /// </summary>
    public int SampledItems { get; init; }

    /// <summary>
    /// With <see cref="SampledItems"/>: how many of the K are the items most frequent in the training data, in every
    /// step's sample; the other K − H are drawn from the rest. 0 draws all K uniformly.
    /// </summary>
    public int SampledHeadItems { get; init; }

    /// <summary>Negatives per sequence for gBCE; at most <see cref="ModelLimits.MaxNegatives"/>.</summary>
    public int Negatives { get; init; } = 256;

    /// <summary>gBCE calibration t in [0, 1].</summary>
    public double Calibration { get; init; } = 0.75;

    /// <summary>
    /// Chance that a sequence longer than MaxLength + 1 trains on a uniformly chosen earlier window instead of its most
    /// recent one; 0 trains only the most recent window (classic SASRec), which never shows the model the older events.
    /// </summary>
    public double EarlierWindowRate { get; init; }

    /// <summary>
    /// How far each training sequence's weight is evened out across users, in [0, 1]: every position of a sequence with
    /// n training positions weighs n^−UserBalance. 0 weighs every position alike (SASRec), so a long history counts as
    /// many short ones; 1 gives every user the same total weight, as per-user ranking metrics do.
    /// </summary>
    public double UserBalance { get; init; }

    public int Seed { get; init; } = 42;

    /// <summary>Worker threads; the run is reproducible for a fixed seed and thread count. At most <see cref="ModelLimits.MaxThreads"/>.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Validate every k epochs (when validation cases are given).</summary>
    public int ValidateEvery { get; init; } = 1;

    /// <summary>Validations without improvement of NDCG@10 before stopping.</summary>
    public int Patience { get; init; } = 10;

    /// <summary>Stop (after finishing the current epoch) once this much wall time has passed; null = no limit.</summary>
    public TimeSpan? TimeLimit { get; init; }

    public void Validate()
    {
        if (Epochs <= 0) throw new ArgumentException($"{nameof(Epochs)} must be a positive whole number, not {Epochs}.");
        if (BatchSize <= 0) throw new ArgumentException($"{nameof(BatchSize)} must be a positive whole number, not {BatchSize}.");
        OptionRange.Positive.Check(LearningRate, nameof(LearningRate));
        if (LearningRateDecayEpoch is <= 0) throw new ArgumentException($"{nameof(LearningRateDecayEpoch)} must be a positive whole number, not {LearningRateDecayEpoch}.");
        OptionRange.Factor.Check(LearningRateDecayFactor, nameof(LearningRateDecayFactor));
        if (!Enum.IsDefined(Schedule)) throw new ArgumentException($"{nameof(Schedule)} {Schedule} is not a learning-rate schedule.");
        if (Schedule != LearningRateSchedule.Constant && LearningRateDecayEpoch is not null)
            throw new ArgumentException($"{nameof(LearningRateDecayEpoch)} is a step decay of the constant schedule; it cannot be combined with {nameof(Schedule)} {Schedule.ToString().ToLowerInvariant()}.");
        OptionRange.Rate.Check(Beta1, nameof(Beta1));
        OptionRange.Rate.Check(Beta2, nameof(Beta2));
        OptionRange.NonNegative.Check(WeightDecay, nameof(WeightDecay));
        OptionRange.Rate.Check(WeightAverageDecay, nameof(WeightAverageDecay));
        ModelLimits.CheckSize(Negatives, nameof(Negatives), ModelLimits.MaxNegatives);
        OptionRange.Probability.Check(Calibration, nameof(Calibration));
        OptionRange.Probability.Check(EarlierWindowRate, nameof(EarlierWindowRate));
        OptionRange.Probability.Check(UserBalance, nameof(UserBalance));
        ModelLimits.CheckSize(Threads, nameof(Threads), ModelLimits.MaxThreads);
        if (ValidateEvery <= 0) throw new ArgumentException($"{nameof(ValidateEvery)} (epochs between validations) must be a positive whole number, not {ValidateEvery}.");
        if (Patience <= 0) throw new ArgumentException($"{nameof(Patience)} must be a positive whole number, not {Patience}.");
        if (ExcludeSeenItems && Loss != LossKind.SoftmaxCrossEntropy)
            throw new ArgumentException($"ExcludeSeenItems applies to the softmax cross-entropy loss only, not {Loss}.");
        OptionRange.Rate.Check(LabelSmoothing, nameof(LabelSmoothing));
        if (LabelSmoothing > 0 && Loss != LossKind.SoftmaxCrossEntropy)
            throw new ArgumentException($"LabelSmoothing applies to the softmax cross-entropy loss only, not {Loss}.");
        ModelLimits.CheckSize(FutureTargets, nameof(FutureTargets), ModelLimits.MaxFutureTargets);
        OptionRange.Factor.Check(FutureDecay, nameof(FutureDecay));
        if (FutureTargets > 1 && Loss != LossKind.SoftmaxCrossEntropy)
            throw new ArgumentException($"FutureTargets applies to the softmax cross-entropy loss only, not {Loss}.");
        if (SampledItems < 0) throw new ArgumentException($"{nameof(SampledItems)} is {SampledItems}; it must be 0 (all items) or positive.");
        if (SampledItems > 0 && Loss != LossKind.SoftmaxCrossEntropy)
            throw new ArgumentException($"SampledItems applies to the softmax cross-entropy loss only, not {Loss}.");
        if (SampledItems > 0 && (LabelSmoothing > 0 || FutureTargets > 1))
            throw new ArgumentException("SampledItems runs the plain softmax over a sample; it cannot be combined with LabelSmoothing or FutureTargets.");
        if (SampledHeadItems < 0) throw new ArgumentException($"{nameof(SampledHeadItems)} is {SampledHeadItems}; it must be 0 or positive.");
        if (SampledHeadItems > 0 && SampledHeadItems >= SampledItems)
            throw new ArgumentException($"{nameof(SampledHeadItems)} is {SampledHeadItems}; it must be below {nameof(SampledItems)} ({SampledItems}), which leaves room for the drawn items.");
        if (FutureTargets > 1 && LabelSmoothing > 0)
            throw new ArgumentException("FutureTargets and LabelSmoothing both spread the target; use one of them.");
    }
}
