using System.Numerics.Tensors;
using Recommender.Model.Nn;
using Recommender.Model.Sasrec;

namespace Recommender.Model.Training;

/// <summary>
/// SASRec-CE: per position −log softmax over all N items of the next item's score. Logits for a chunk of rows are
/// one product with the transposed embedding table (prepared once per step, column stride padded to 16), so the
/// cost is three [rows × D × N] products per sequence and no sampling. A model that scores by cosine
/// (<see cref="SasRecConfig.Temperature"/> &gt; 0) has logits ŷ·ê / τ with ŷ and ê the unit-length hidden state and
/// item embedding; the gradients are carried back through both normalisations. With <c>excludeSeen</c>, each position's
/// softmax runs over the items the user had not had by then (plus the target), as ranking with seen items removed does.
/// With label smoothing ε the target distribution is 1 − ε on the next item plus ε spread evenly over every item the
/// softmax runs over, which keeps the logits of the many near-misses from being pushed down as hard as true negatives.
/// With K future targets each position's target is spread over the next K items of the sequence inside the training
/// window, item t + k weighing γ^(k−1) before the weights are scaled to sum to 1 − ε: in a history whose exact order
/// is partly noise, the items the user had soon after are evidence of the next one too.
/// </summary>
public sealed class SoftmaxCrossEntropyLoss(bool excludeSeen = false, double labelSmoothing = 0, int futureTargets = 1, double futureDecay = 0.5) : SequenceLoss
{
    private const int ChunkRows = 64;
    private readonly bool _excludeSeen = excludeSeen;
    private readonly float _smoothing = (float)labelSmoothing;
    // Unnormalised weights γ^(k−1) of targets k = 1..K.
    private readonly float[] _futureWeights = Enumerable.Range(0, futureTargets).Select(k => (float)Math.Pow(futureDecay, k)).ToArray();
    private float[] _itemsT = [];

    // Cosine scoring only: the unit-length item rows (row 0 unused) and the norms they were divided by.
    private float[] _unitItems = [];
    private float[] _itemNorms = [];

    public override LossKind Kind => LossKind.SoftmaxCrossEntropy;

    public override int NegativeCount(int rows) => 0;

    private static int Stride(int itemCount) => (itemCount + 15) & ~15;

    internal override void Prepare(SasRecModel model, SplitMix sampling)
    {
        int n = model.Config.ItemCount, d = model.Config.Dimension, ld = Stride(n);
        if (_itemsT.Length != d * ld) _itemsT = new float[d * ld];
        var items = model.OutputEmbedding.Data;
        if (model.Config.ScoresByCosine)
        {
            if (_unitItems.Length != items.Length) (_unitItems, _itemNorms) = (new float[items.Length], new float[n + 1]);
            for (var i = 1; i <= n; i++)
            {
                var row = items.AsSpan(i * d, d);
                _itemNorms[i] = CosineScores.Norm(row);
                TensorPrimitives.Multiply(row, 1f / _itemNorms[i], _unitItems.AsSpan(i * d, d));
            }
            items = _unitItems;
        }
        for (var i = 0; i < n; i++)
            for (var c = 0; c < d; c++)
                _itemsT[c * ld + i] = items[(i + 1) * d + c];
    }

    internal override LossWorker CreateWorker(SasRecModel model) => new Worker(model, this);

    private sealed class Worker(SasRecModel model, SoftmaxCrossEntropyLoss loss) : LossWorker
    {
        private readonly int _n = model.Config.ItemCount;
        private readonly int _d = model.Config.Dimension;
        private readonly int _ld = Stride(model.Config.ItemCount);
        private readonly float[] _logits = new float[ChunkRows * Stride(model.Config.ItemCount)];
        private readonly float[] _dItemsT = new float[model.Config.Dimension * Stride(model.Config.ItemCount)];
        private readonly float _temperature = model.Config.Temperature;
        private readonly float[] _scaledRows = model.Config.ScoresByCosine ? new float[ChunkRows * model.Config.Dimension] : [];
        private readonly float[] _rowNorms = new float[ChunkRows];
        private bool _dirty;

        public override double Compute(ReadOnlySpan<float> y, int rows, ReadOnlySpan<int> targets, ReadOnlySpan<int> history, ReadOnlySpan<int> negatives, float scale, Span<float> dY, float[][] grads)
        {
            int n = _n, d = _d, ld = _ld;
            var cosine = _temperature > 0;
            var eps = loss._smoothing;
            var smooth = eps > 0;
            var future = loss._futureWeights;
            Span<int> futureItems = stackalloc int[future.Length];
            Span<float> futureLogits = stackalloc float[future.Length];
            var itemsRows = (cosine ? loss._unitItems : model.OutputEmbedding.Data).AsSpan(d);
            var total = 0.0;
            for (var r0 = 0; r0 < rows; r0 += ChunkRows)
            {
                var m = Math.Min(ChunkRows, rows - r0);
                var logits = _logits.AsSpan(0, m * ld);
                var h = y.Slice(r0 * d, m * d);
                if (cosine)
                {
                    // The logits' left factor is h' = ŷ / τ = y / (|y| τ).
                    var scaled = _scaledRows.AsSpan(0, m * d);
                    for (var r = 0; r < m; r++)
                    {
                        _rowNorms[r] = CosineScores.Norm(h.Slice(r * d, d));
                        TensorPrimitives.Multiply(h.Slice(r * d, d), 1f / (_rowNorms[r] * _temperature), scaled.Slice(r * d, d));
                    }
                    h = scaled;
                }
                Gemm.Multiply(m, ld, d, h, d, 1, loss._itemsT, ld, logits, ld, accumulate: false);
                for (var r = 0; r < m; r++)
                {
                    var row = logits.Slice(r * ld, n);
                    var target = targets[r0 + r] - 1;
                    var targetLogit = row[target];
                    // Targets past the first: the later items inside the window, their logits kept before masking.
                    var extra = Math.Min(future.Length, rows - r0 - r) - 1;
                    var futureTotal = 1f;
                    for (var k = 1; k <= extra; k++)
                    {
                        futureItems[k] = targets[r0 + r + k] - 1;
                        futureLogits[k] = row[futureItems[k]];
                        futureTotal += future[k];
                    }
                    var seenSoFar = loss._excludeSeen ? history[..^(rows - r0 - r - 1)] : default;
                    // Label smoothing needs the mean logit over the items the softmax runs over: all, minus the seen ones.
                    double smoothedLogit = 0;
                    var classes = n;
                    if (smooth)
                    {
                        var allSum = (double)TensorPrimitives.Sum(row);
                        foreach (var seen in seenSoFar)
                            if (seen - 1 != target && !float.IsNegativeInfinity(row[seen - 1])) { allSum -= row[seen - 1]; classes--; row[seen - 1] = float.NegativeInfinity; }
                        smoothedLogit = allSum / classes;
                    }
                    else if (loss._excludeSeen)
                        // Items the user had by this position get probability 0 (and so no gradient); the target stays.
                        foreach (var seen in seenSoFar) row[seen - 1] = float.NegativeInfinity;
                    for (var k = 1; k <= extra; k++) row[futureItems[k]] = futureLogits[k];
                    row[target] = targetLogit;
                    var max = TensorPrimitives.Max(row);
                    TensorPrimitives.Subtract(row, max, row);
                    TensorPrimitives.Exp(row, row);
                    var sum = TensorPrimitives.Sum(row);
                    var first = (1 - eps) / futureTotal;
                    var targetTerm = first * targetLogit;
                    for (var k = 1; k <= extra; k++) targetTerm += future[k] * (1 - eps) / futureTotal * futureLogits[k];
                    total += max + Math.Log(sum) - targetTerm - eps * smoothedLogit;
                    TensorPrimitives.Multiply(row, scale / sum, row);
                    row[target] -= scale * first;
                    for (var k = 1; k <= extra; k++) row[futureItems[k]] -= scale * future[k] * (1 - eps) / futureTotal;
                    if (smooth)
                    {
                        TensorPrimitives.Subtract(row, scale * eps / classes, row);
                        // Left-out items take no share of the smoothing either: their gradient stays exactly 0.
                        foreach (var seen in seenSoFar)
                            if (seen - 1 != target) row[seen - 1] = 0;
                    }
                }
                // dY = dZ · E and dEᵀ += Yᵀ · dZ, with the padding columns of dZ zeroed so they add nothing.
                for (var r = 0; r < m; r++) logits.Slice(r * ld + n, ld - n).Clear();
                Gemm.Multiply(m, d, n, logits, ld, 1, itemsRows, d, dY.Slice(r0 * d, m * d), d, accumulate: false);
                Gemm.Multiply(d, ld, m, h, 1, d, logits, ld, _dItemsT, ld, accumulate: true);
                if (cosine)
                    for (var r = 0; r < m; r++)
                    {
                        // dY holds g = dZ·Ê and dL/dŷ = g / τ; through ŷ = y / |y|: dL/dy = (g − ŷ (ŷ·g)) / (τ |y|), with ŷ = τ h'.
                        var g = dY.Slice((r0 + r) * d, d);
                        var hr = h.Slice(r * d, d);
                        var projection = TensorPrimitives.Dot(hr, g) * _temperature;
                        TensorPrimitives.MultiplyAdd(hr, -_temperature * projection, g, g);
                        TensorPrimitives.Multiply(g, 1f / (_temperature * _rowNorms[r]), g);
                    }
                _dirty = true;
            }
            return total;
        }

        public override void Flush(float[][] grads)
        {
            if (!_dirty) return;
            int n = _n, d = _d, ld = _ld;
            var dItems = grads[model.OutputEmbedding.Index];
            if (_temperature > 0)
            {
                // _dItemsT holds dL/dê (τ is already inside h'); through ê = e / |e|: dL/de = (dê − ê (ê·dê)) / |e|.
                var g = new float[d];
                for (var i = 0; i < n; i++)
                {
                    for (var c = 0; c < d; c++) g[c] = _dItemsT[c * ld + i];
                    var unit = loss._unitItems.AsSpan((i + 1) * d, d);
                    TensorPrimitives.MultiplyAdd(unit, -TensorPrimitives.Dot(unit, g), g, g);
                    TensorPrimitives.MultiplyAdd(g, 1f / loss._itemNorms[i + 1], dItems.AsSpan((i + 1) * d, d), dItems.AsSpan((i + 1) * d, d));
                }
            }
            else
                for (var i = 0; i < n; i++)
                    for (var c = 0; c < d; c++)
                        dItems[(i + 1) * d + c] += _dItemsT[c * ld + i];
            Array.Clear(_dItemsT);
            _dirty = false;
        }
    }
}
