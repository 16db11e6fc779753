using System.Numerics.Tensors;
using Recommender.Model.Sasrec;

namespace Recommender.Model.Training;

/// <summary>
/// Classic SASRec objective: per position −log σ(s⁺) − log(1 − σ(s⁻)) for the next item and one uniform negative,
/// with s = h · item_emb[item].
/// </summary>
public sealed class BceLoss : SequenceLoss
{
    public override LossKind Kind => LossKind.Bce;

    public override int NegativeCount(int rows) => rows;

    internal override LossWorker CreateWorker(SasRecModel model) => new Worker(model);

    private sealed class Worker(SasRecModel model) : LossWorker
    {
        public override double Compute(ReadOnlySpan<float> y, int rows, ReadOnlySpan<int> targets, ReadOnlySpan<int> history, ReadOnlySpan<int> negatives, float scale, Span<float> dY, float[][] grads)
        {
            var d = model.Config.Dimension;
            var items = model.OutputEmbedding.Data;
            var dItems = grads[model.OutputEmbedding.Index];
            var total = 0.0;
            for (var r = 0; r < rows; r++)
            {
                var h = y.Slice(r * d, d);
                var positive = items.AsSpan(targets[r] * d, d);
                var negative = items.AsSpan(negatives[r] * d, d);
                var sPos = TensorPrimitives.Dot(h, positive);
                var sNeg = TensorPrimitives.Dot(h, negative);
                total += Softplus(-sPos) + Softplus(sNeg);
                var gPos = (Sigmoid(sPos) - 1f) * scale;
                var gNeg = Sigmoid(sNeg) * scale;
                var dh = dY.Slice(r * d, d);
                TensorPrimitives.Multiply(positive, gPos, dh);
                TensorPrimitives.MultiplyAdd(negative, gNeg, dh, dh);
                var dPos = dItems.AsSpan(targets[r] * d, d);
                TensorPrimitives.MultiplyAdd(h, gPos, dPos, dPos);
                var dNeg = dItems.AsSpan(negatives[r] * d, d);
                TensorPrimitives.MultiplyAdd(h, gNeg, dNeg, dNeg);
            }
            return total;
        }
    }
}
