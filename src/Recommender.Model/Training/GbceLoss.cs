using System.Numerics.Tensors;
using Recommender.Model.Nn;
using Recommender.Model.Sasrec;

namespace Recommender.Model.Training;

/// <summary>
/// gSASRec's generalised BCE: per position −β·log σ(s⁺) − Σₖ log(1 − σ(sₖ⁻)) over K uniform negatives, with
/// α = K/(N−1) and β = α(t(1 − 1/α) + 1/α), which undoes the over-confidence that negative sampling induces
/// (t = 0 is plain BCE, t = 1 full calibration). The K negatives are drawn once per sequence and shared by its
/// positions, so the negative scores are one matrix product.
/// </summary>
public sealed class GbceLoss : SequenceLoss
{
    public GbceLoss(int itemCount, int negatives, double calibration)
    {
        if (itemCount < 2) throw new ArgumentException("gBCE needs at least two items.", nameof(itemCount));
        ModelLimits.CheckSize(negatives, nameof(negatives), ModelLimits.MaxNegatives);
        OptionRange.Probability.Check(calibration, nameof(calibration));
        Negatives = negatives;
        Calibration = calibration;
        var alpha = (double)negatives / (itemCount - 1);
        Beta = alpha * (calibration * (1 - 1 / alpha) + 1 / alpha);
    }

    public int Negatives { get; }

    public double Calibration { get; }

    /// <summary>Exponent of the positive probability.</summary>
    public double Beta { get; }

    public override LossKind Kind => LossKind.Gbce;

    public override int NegativeCount(int rows) => Negatives;

    internal override LossWorker CreateWorker(SasRecModel model) => new Worker(model, this);

    private sealed class Worker(SasRecModel model, GbceLoss loss) : LossWorker
    {
        private readonly int _d = model.Config.Dimension;
        private readonly int _stride = (loss.Negatives + 15) & ~15;
        private float[] _negatives = [];
        private float[] _negativesT = [];
        private float[] _logits = [];
        private float[] _dNegatives = [];

        public override double Compute(ReadOnlySpan<float> y, int rows, ReadOnlySpan<int> targets, ReadOnlySpan<int> history, ReadOnlySpan<int> negatives, float scale, Span<float> dY, float[][] grads)
        {
            int d = _d, k = loss.Negatives, ld = _stride;
            var items = model.OutputEmbedding.Data;
            var dItems = grads[model.OutputEmbedding.Index];
            if (_negatives.Length == 0)
            {
                _negatives = new float[k * d];
                _negativesT = new float[d * ld];
                _dNegatives = new float[k * d];
            }
            if (_logits.Length < rows * ld) _logits = new float[model.Config.MaxLength * ld];
            // The negatives' embeddings, gathered [K, D] and transposed [D, K] with a padded stride so the product runs in whole vectors.
            for (var j = 0; j < k; j++)
            {
                var row = items.AsSpan(negatives[j] * d, d);
                row.CopyTo(_negatives.AsSpan(j * d, d));
                for (var c = 0; c < d; c++) _negativesT[c * ld + j] = row[c];
            }
            var logits = _logits.AsSpan(0, rows * ld);
            Gemm.Multiply(rows, ld, d, y, d, 1, _negativesT, ld, logits, ld, accumulate: false);
            var beta = (float)loss.Beta;
            var total = 0.0;
            for (var r = 0; r < rows; r++)
            {
                var h = y.Slice(r * d, d);
                var positive = items.AsSpan(targets[r] * d, d);
                var sPos = TensorPrimitives.Dot(h, positive);
                total += beta * Softplus(-sPos);
                var gPos = beta * (Sigmoid(sPos) - 1f) * scale;
                var row = logits.Slice(r * ld, k);
                for (var j = 0; j < k; j++)
                {
                    var s = row[j];
                    total += Softplus(s);
                    row[j] = Sigmoid(s) * scale;
                }
                logits.Slice(r * ld + k, ld - k).Clear();
                TensorPrimitives.Multiply(positive, gPos, dY.Slice(r * d, d));
                var dPos = dItems.AsSpan(targets[r] * d, d);
                TensorPrimitives.MultiplyAdd(h, gPos, dPos, dPos);
            }
            // dY += dS · En ; dEn = dSᵀ · Y
            Gemm.Multiply(rows, d, k, logits, ld, 1, _negatives, d, dY, d, accumulate: true);
            Gemm.Multiply(k, d, rows, logits, 1, ld, y, d, _dNegatives, d, accumulate: false);
            for (var j = 0; j < k; j++)
            {
                var dst = dItems.AsSpan(negatives[j] * d, d);
                TensorPrimitives.Add(dst, _dNegatives.AsSpan(j * d, d), dst);
            }
            return total;
        }
    }
}
