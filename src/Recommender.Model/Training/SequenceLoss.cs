using Recommender.Model.Nn;
using Recommender.Model.Sasrec;

namespace Recommender.Model.Training;

/// <summary>Which training objective scores the next item at every position.</summary>
public enum LossKind
{
    /// <summary>Binary cross-entropy with one uniformly sampled negative per position (classic SASRec).</summary>
    Bce,

    /// <summary>Generalised BCE with K sampled negatives and calibration t (gSASRec).</summary>
    Gbce,

    /// <summary>Softmax cross-entropy over the whole catalogue (SASRec-CE).</summary>
    SoftmaxCrossEntropy,
}

/// <summary>
/// A next-item objective. For one sequence it turns the final hidden states [rows, D] and the target items into
/// a summed loss, the gradient with respect to the hidden states and the gradient of the item embeddings.
/// Per-thread scratch lives in a <see cref="LossWorker"/>.
/// </summary>
public abstract class SequenceLoss
{
    public abstract LossKind Kind { get; }

    /// <summary>Uniform negatives (dense ids 1..N) the trainer samples for a sequence of <paramref name="rows"/> training positions.</summary>
    public abstract int NegativeCount(int rows);

    /// <summary>
    /// Called once per optimiser step, before any worker computes, with the current parameters and the step's own
    /// generator, from which a loss that samples per step draws.
    /// </summary>
    internal virtual void Prepare(SasRecModel model, SplitMix sampling) { }

    /// <summary>Called with the training sequences before training on them, for a loss that depends on the data.</summary>
    internal virtual void Observe(IReadOnlyList<int[]> sequences) { }

    internal abstract LossWorker CreateWorker(SasRecModel model);

    public static SequenceLoss Create(LossKind kind, int itemCount, int negatives = 256, double calibration = 0.75, bool excludeSeen = false, double labelSmoothing = 0, int futureTargets = 1, double futureDecay = 0.5, int sampledItems = 0, int headItems = 0) => kind switch
    {
        LossKind.SoftmaxCrossEntropy when sampledItems > 0 && sampledItems < itemCount => new SampledSoftmaxLoss(itemCount, sampledItems, excludeSeen, headItems),
        LossKind.Bce => new BceLoss(),
        LossKind.Gbce => new GbceLoss(itemCount, negatives, calibration),
        LossKind.SoftmaxCrossEntropy => new SoftmaxCrossEntropyLoss(excludeSeen, labelSmoothing, futureTargets, futureDecay),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown loss."),
    };
}

/// <summary>Per-thread state of a loss.</summary>
internal abstract class LossWorker
{
    /// <summary>
    /// Returns the summed loss over the sequence's positions, writes dL/dY·scale into <paramref name="dY"/> and
    /// adds the item-embedding gradient (times scale) into <paramref name="grads"/>. <paramref name="history"/> is the
    /// user's sequence up to and including the last input, older events than the window included: row r's input is
    /// history[^(rows − r)], and the items the user had by then are history[..^(rows − r − 1)].
    /// </summary>
    public abstract double Compute(ReadOnlySpan<float> y, int rows, ReadOnlySpan<int> targets, ReadOnlySpan<int> history, ReadOnlySpan<int> negatives, float scale, Span<float> dY, float[][] grads);

    /// <summary>Moves any privately accumulated gradient into <paramref name="grads"/> at the end of the step.</summary>
    public virtual void Flush(float[][] grads) { }

    /// <summary>log(1 + e^x) without overflow.</summary>
    public static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));
}
