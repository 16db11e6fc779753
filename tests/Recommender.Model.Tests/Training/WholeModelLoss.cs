using Recommender.Model.Nn;
using Recommender.Model.Sasrec;
using Recommender.Model.Training;

namespace Recommender.Model.Tests.Training;

/// <summary>
/// The training loss of a few sequences through the whole model, with fixed dropout masks and negatives, so that
/// finite differences of it can be compared with the backward pass.
/// </summary>
public static class WholeModelLoss
{
    /// <summary>
    /// Three sequences over items 1..12 (one longer than a 7-item window, one of two events) and, for each, the fixed
    /// negatives <paramref name="loss"/> draws for it.
    /// </summary>
    public static (int[][] Sequences, int[][] Negatives) SmallCase(SequenceLoss loss)
    {
        int[][] sequences = [[1, 2, 3], [3, 4, 5, 6, 7, 8, 9, 10, 11], [12, 1]];
        var rng = SplitMix.For(77);
        var negatives = sequences.Select(s => Enumerable.Range(0, loss.NegativeCount(Math.Min(s.Length - 1, 7))).Select(_ => 1 + rng.NextInt(12)).ToArray()).ToArray();
        return (sequences, negatives);
    }

    /// <summary>The summed loss; with <paramref name="grads"/>, also accumulates every parameter's gradient there.</summary>
    public static double Evaluate(SasRecModel model, SequenceLoss loss, int[][] sequences, int[][] negatives, float[][]? grads)
    {
        var config = model.Config;
        loss.Prepare(model, SplitMix.For(0));
        var pass = new SequencePass(config);
        var worker = loss.CreateWorker(model);
        var sink = grads ?? model.Parameters.Select(p => new float[p.Data.Length]).ToArray();
        var total = 0.0;
        for (var j = 0; j < sequences.Length; j++)
        {
            var s = sequences[j];
            var n = Math.Min(s.Length - 1, config.MaxLength);
            var rng = SplitMix.For(5, j);
            pass.Forward(model, s.AsSpan(s.Length - 1 - n, n), training: true, ref rng);
            var dY = new float[n * config.Dimension];
            total += worker.Compute(pass.Output, n, s.AsSpan(s.Length - n, n), s.AsSpan(0, s.Length - 1), negatives[j], 1f, dY, sink);
            if (grads is not null) pass.Backward(model, dY, grads);
        }
        worker.Flush(sink);
        return total;
    }
}
