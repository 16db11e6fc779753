namespace Recommender.Model;

/// <summary>
/// Upper bounds on the sizes a model, a training run or a dense id file may ask for. Each lies far above what a CPU
/// can train in practice; it exists so that a typing slip (an extra digit, a corrupted file) fails at once with a
/// message naming the size, instead of an arithmetic overflow, an out-of-memory error or an allocation that never ends.
/// </summary>
public static class ModelLimits
{
    /// <summary>Items of one model, and so the largest id a dense-id file may hold: 10 million.</summary>
    public const int MaxItemCount = 10_000_000;

    /// <summary>Width of the item and hidden vectors: 4,096.</summary>
    public const int MaxDimension = 4_096;

    /// <summary>Most recent items a model looks at: 4,096 (attention is quadratic in it).</summary>
    public const int MaxSequenceLength = 4_096;

    /// <summary>Hidden width of the feed-forward layer, and width of frozen text vectors: 16,384.</summary>
    public const int MaxFeedForwardDimension = 16_384;

    /// <inheritdoc cref="MaxFeedForwardDimension"/>
    public const int MaxTextDimension = 16_384;

    /// <summary>Transformer blocks: 64.</summary>
    public const int MaxBlocks = 64;

    /// <summary>Attention heads: 64.</summary>
    public const int MaxHeads = 64;

    /// <summary>Sampled negatives per sequence (gBCE): 100,000.</summary>
    public const int MaxNegatives = 100_000;

    /// <summary>Items after each position that softmax cross-entropy may train it to predict: 64.</summary>
    public const int MaxFutureTargets = 64;

    /// <summary>Training worker threads (each holds a full set of gradients): 1,024.</summary>
    public const int MaxThreads = 1_024;

    /// <summary>
    /// Values in one tensor, such as the item table (items + 1) × dimension: 2^30 (4 GiB of float32, 16 GiB with its
    /// gradient and Adam moments), which leaves the padded buffers derived from it inside the 2^31 limit of an array.
    /// </summary>
    public const long MaxTensorElements = 1L << 30;

    /// <summary>Throws when <paramref name="value"/> is not in 1..<paramref name="max"/>; the message names the option and the value.</summary>
    internal static void CheckSize(long value, string option, long max)
    {
        if (value <= 0) throw new ArgumentException($"{option} is {value}; it must be positive.");
        if (value > max) throw new ArgumentException($"{option} is {value}; it must be at most {max:N0}.");
    }

    /// <summary>Throws when a tensor of <paramref name="rows"/> × <paramref name="columns"/> values would exceed <see cref="MaxTensorElements"/>.</summary>
    internal static void CheckTensor(string tensor, long rows, long columns)
    {
        var values = rows * columns;
        if (values > MaxTensorElements)
            throw new ArgumentException($"The {tensor} of {rows:N0} x {columns:N0} would hold {values:N0} values, above the limit of {MaxTensorElements:N0} per tensor.");
    }
}
