using System.Numerics.Tensors;
using Recommender.Model.Nn;
using Recommender.Model.Sasrec;

namespace Recommender.Model.Training;

/// <summary>
/// Sampled softmax cross-entropy: each optimiser step takes K of the N items, shared by every position of the batch,
/// and each position's softmax runs over its target and those K items (less the target and, with <c>excludeSeen</c>,
/// the items the user had by then). The K are the H items most frequent in the training data, always, and K − H drawn
/// uniformly without replacement from the other N − H. A drawn item stands for (N − H)/(K − H) items, so its logit gets
/// log((N − H)/(K − H)) added: the denominator is then exact over the head and an unbiased estimate over the tail,
/// where less of the probability lies. The three products per sequence are [rows × D × K] instead of [rows × D × N];
/// the estimate's noise makes each epoch teach less (deploy/bench/ML1M.md), so it pays where N dwarfs the model's width.
/// </summary>
public sealed class SampledSoftmaxLoss : SequenceLoss
{
    private const int ChunkRows = 64;
    private readonly int _itemCount;
    private readonly int _sampled;
    private readonly int _headCount;
    private readonly bool _excludeSeen;
    private readonly float _correction;
    private readonly int _stride;
    private readonly int[] _pool;
    // All items, the most frequent in the training data first (null until observed): the head, then what the rest are
    // drawn from; and which items are in the head.
    private int[]? _byFrequency;
    private readonly bool[] _inHead;
    // This step's sample: its items (dense ids, ascending), their rows [K, D] and transposed [D, stride], each item's
    // column (−1 if not sampled) and each column's logit correction (0 for the head).
    private readonly int[] _items;
    private float[] _rows = [];
    private float[] _rowsT = [];
    private readonly int[] _column;
    private readonly float[] _corrections;

    public SampledSoftmaxLoss(int itemCount, int sampledItems, bool excludeSeen, int headItems = 0)
    {
        if (sampledItems < 1 || sampledItems >= itemCount)
            throw new ArgumentOutOfRangeException(nameof(sampledItems), sampledItems, $"The sample must hold between 1 and N − 1 = {itemCount - 1} items; N or more is the full softmax.");
        if (headItems < 0 || headItems >= sampledItems)
            throw new ArgumentOutOfRangeException(nameof(headItems), headItems, $"The head must hold between 0 and K − 1 = {sampledItems - 1} items, leaving room for a drawn tail.");
        _itemCount = itemCount;
        _sampled = sampledItems;
        _headCount = headItems;
        _excludeSeen = excludeSeen;
        _correction = (float)Math.Log((double)(itemCount - headItems) / (sampledItems - headItems));
        _corrections = new float[sampledItems];
        _stride = (sampledItems + 15) & ~15;
        _pool = new int[itemCount];
        _items = new int[sampledItems];
        _column = new int[itemCount + 1];
        _inHead = new bool[itemCount + 1];
    }

    public override LossKind Kind => LossKind.SoftmaxCrossEntropy;

    public override int NegativeCount(int rows) => 0;

    /// <summary>The items of the current sample, ascending.</summary>
    public ReadOnlySpan<int> Sample => _items;

    /// <summary>
    /// Ranks the items by how often the training sequences hold them (ties by id), which fixes the head; needed
    /// before the first <see cref="Prepare(SasRecModel, SplitMix)"/> when the head is not empty.
    /// </summary>
    internal override void Observe(IReadOnlyList<int[]> sequences)
    {
        var counts = new long[_itemCount + 1];
        foreach (var s in sequences)
            foreach (var item in s)
                if (item >= 1 && item <= _itemCount) counts[item]++;
        _byFrequency = Enumerable.Range(1, _itemCount).OrderByDescending(i => counts[i]).ThenBy(i => i).ToArray();
        Array.Clear(_inHead);
        foreach (var item in _byFrequency.AsSpan(0, _headCount)) _inHead[item] = true;
    }

    internal override void Prepare(SasRecModel model, SplitMix sampling)
    {
        int n = _itemCount, k = _sampled, d = model.Config.Dimension, ld = _stride;
        if (model.Config.ScoresByCosine) throw new InvalidOperationException("The sampled softmax scores by dot product; a model with a temperature trains with the full softmax.");
        var head = _headCount;
        if (head > 0 && _byFrequency is null) throw new InvalidOperationException("A sampled softmax with a head needs the training data's item frequencies first.");
        // The head, then a partial Fisher–Yates shuffle of a fresh pool of the others, so the sample depends on the
        // data and the generator alone.
        if (_byFrequency is null) for (var i = 0; i < n; i++) _pool[i] = i + 1;
        else _byFrequency.CopyTo(_pool, 0);
        for (var i = head; i < k; i++)
        {
            var j = i + sampling.NextInt(n - i);
            (_pool[i], _pool[j]) = (_pool[j], _pool[i]);
        }
        _pool.AsSpan(0, k).CopyTo(_items);
        _items.AsSpan().Sort();
        Array.Fill(_column, -1);
        if (_rows.Length != k * d) (_rows, _rowsT) = (new float[k * d], new float[d * ld]);
        var items = model.OutputEmbedding.Data;
        for (var c = 0; c < k; c++)
        {
            var item = _items[c];
            _column[item] = c;
            // Head items stand for themselves alone.
            _corrections[c] = _inHead[item] ? 0 : _correction;
            var row = items.AsSpan(item * d, d);
            row.CopyTo(_rows.AsSpan(c * d, d));
            for (var x = 0; x < d; x++) _rowsT[x * ld + c] = row[x];
        }
    }

    internal override LossWorker CreateWorker(SasRecModel model) => new Worker(model, this);

    private sealed class Worker(SasRecModel model, SampledSoftmaxLoss loss) : LossWorker
    {
        private readonly int _d = model.Config.Dimension;
        private readonly float[] _logits = new float[ChunkRows * loss._stride];
        private readonly float[] _dRowsT = new float[model.Config.Dimension * loss._stride];
        private bool _dirty;

        public override double Compute(ReadOnlySpan<float> y, int rows, ReadOnlySpan<int> targets, ReadOnlySpan<int> history, ReadOnlySpan<int> negatives, float scale, Span<float> dY, float[][] grads)
        {
            int d = _d, k = loss._sampled, ld = loss._stride;
            var corrections = loss._corrections;
            var column = loss._column;
            var items = model.OutputEmbedding.Data;
            var dItems = grads[model.OutputEmbedding.Index];
            var total = 0.0;
            Span<float> targetGradients = stackalloc float[ChunkRows];
            for (var r0 = 0; r0 < rows; r0 += ChunkRows)
            {
                var m = Math.Min(ChunkRows, rows - r0);
                var logits = _logits.AsSpan(0, m * ld);
                var h = y.Slice(r0 * d, m * d);
                Gemm.Multiply(m, ld, d, h, d, 1, loss._rowsT, ld, logits, ld, accumulate: false);
                for (var r = 0; r < m; r++)
                {
                    var row = logits.Slice(r * ld, k);
                    var target = targets[r0 + r];
                    var hr = h.Slice(r * d, d);
                    var targetLogit = TensorPrimitives.Dot(hr, items.AsSpan(target * d, d));
                    TensorPrimitives.Add(row, corrections, row);
                    if (column[target] >= 0) row[column[target]] = float.NegativeInfinity;
                    if (loss._excludeSeen)
                        foreach (var seen in history[..^(rows - r0 - r - 1)])
                            if (column[seen] >= 0) row[column[seen]] = float.NegativeInfinity;
                    var max = Math.Max(TensorPrimitives.Max(row), targetLogit);
                    TensorPrimitives.Subtract(row, max, row);
                    TensorPrimitives.Exp(row, row);
                    var targetExp = MathF.Exp(targetLogit - max);
                    var sum = TensorPrimitives.Sum(row) + targetExp;
                    total += max + Math.Log(sum) - targetLogit;
                    TensorPrimitives.Multiply(row, scale / sum, row);
                    targetGradients[r] = scale * (targetExp / sum - 1);
                }
                // dY = dZ · E_S + dz_t · e_t; dE_Sᵀ += Yᵀ · dZ (padding columns zeroed); de_t += dz_t · y.
                for (var r = 0; r < m; r++) logits.Slice(r * ld + k, ld - k).Clear();
                Gemm.Multiply(m, d, k, logits, ld, 1, loss._rows, d, dY.Slice(r0 * d, m * d), d, accumulate: false);
                Gemm.Multiply(d, ld, m, h, 1, d, logits, ld, _dRowsT, ld, accumulate: true);
                for (var r = 0; r < m; r++)
                {
                    var target = targets[r0 + r];
                    TensorPrimitives.MultiplyAdd(items.AsSpan(target * d, d), targetGradients[r], dY.Slice((r0 + r) * d, d), dY.Slice((r0 + r) * d, d));
                    TensorPrimitives.MultiplyAdd(h.Slice(r * d, d), targetGradients[r], dItems.AsSpan(target * d, d), dItems.AsSpan(target * d, d));
                }
                _dirty = true;
            }
            return total;
        }

        public override void Flush(float[][] grads)
        {
            if (!_dirty) return;
            int d = _d, k = loss._sampled, ld = loss._stride;
            var dItems = grads[model.OutputEmbedding.Index];
            for (var c = 0; c < k; c++)
            {
                var row = dItems.AsSpan(loss._items[c] * d, d);
                for (var x = 0; x < d; x++) row[x] += _dRowsT[x * ld + c];
            }
            Array.Clear(_dRowsT);
            _dirty = false;
        }
    }
}
