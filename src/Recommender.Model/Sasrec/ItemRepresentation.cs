using Recommender.Model.Nn;
using Recommender.Model.Packaging;

namespace Recommender.Model.Sasrec;

/// <summary>
/// How the item table item_emb [N+1, D] is made when the model reads item text. For "text" row i is
/// text_i · W + b; for "id+text" it is item_id_emb_i + text_i · W + b, where text_i is the item's FROZEN text
/// vector (item_text [N+1, T], never trained), W = text_proj.weight [T, D] and b = text_proj.bias [D]. Row 0 (padding)
/// stays zero. The forward pass and the losses read item_emb as usual, both on the input side and on the shared
/// output side; this class rebuilds it from its parts after every parameter change and turns its gradient into the
/// gradients of the parts.
/// </summary>
internal sealed class ItemRepresentation
{
    public const string IdEmbeddingName = "item_id_emb";
    public const string TextName = "item_text";
    public const string WeightName = "text_proj.weight";
    public const string BiasName = "text_proj.bias";

    private readonly int _n;
    private readonly int _d;
    private readonly int _t;
    private readonly float _idDropout;
    private readonly bool[] _dropped;
    private bool _anyDropped;

    public ItemRepresentation(SasRecConfig config, Parameter table, Func<string, int[], Parameter> add)
    {
        _n = config.ItemCount;
        _d = config.Dimension;
        _t = config.TextDimension;
        _idDropout = config.ItemIdDropout;
        _dropped = new bool[_n + 1];
        Table = table;
        // The table is computed from the parts below, so the optimiser must not move it on its own.
        table.Trainable = false;
        IdEmbedding = ItemRepresentations.UsesId(config.ItemRepresentation) ? add(IdEmbeddingName, [_n + 1, _d]) : null;
        Text = add(TextName, [_n + 1, _t]);
        Text.Trainable = false;
        Weight = add(WeightName, [_t, _d]);
        Bias = add(BiasName, [_d]);
    }

    public Parameter Table { get; }

    public Parameter? IdEmbedding { get; }

    public Parameter Text { get; }

    public Parameter Weight { get; }

    public Parameter Bias { get; }

    /// <summary>
    /// After random initialisation: the text rows are set, and the id rows start at zero so an item that is never
    /// trained on (it has no interactions) keeps the vector of its text alone.
    /// </summary>
    public void Initialise(ReadOnlySpan<float> itemText)
    {
        if (itemText.Length != _n * _t)
            throw new ArgumentException($"Item text vectors hold {itemText.Length} floats; {_n} items of text dimension {_t} need {_n * _t}.", nameof(itemText));
        Array.Clear(Text.Data);
        itemText.CopyTo(Text.Data.AsSpan(_t));
        if (IdEmbedding is not null) Array.Clear(IdEmbedding.Data);
        Materialise();
    }

    /// <summary>item_emb rows 1..N = [item_id_emb +] item_text · W + b; row 0 = 0. Ends any id dropout.</summary>
    public void Materialise()
    {
        if (_anyDropped) Array.Clear(_dropped);
        _anyDropped = false;
        var table = Table.Data;
        var rows = table.AsSpan(_d);
        Gemm.Multiply(_n, _d, _t, Text.Data.AsSpan(_t), _t, 1, Weight.Data, _d, rows, _d, accumulate: false);
        for (var i = 0; i < _n; i++)
        {
            var row = rows.Slice(i * _d, _d);
            System.Numerics.Tensors.TensorPrimitives.Add(row, Bias.Data, row);
        }
        if (IdEmbedding is not null)
            System.Numerics.Tensors.TensorPrimitives.Add(rows, IdEmbedding.Data.AsSpan(_d), rows);
        table.AsSpan(0, _d).Clear();
    }

    /// <summary>
    /// For one training step (after <see cref="Materialise"/>): removes the id row of each item with chance ItemIdDropout,
    /// so those items are scored and read by their text alone, and <see cref="Backward"/> gives their id rows no gradient.
    /// </summary>
    public void DropIds(SplitMix rng)
    {
        if (IdEmbedding is null || _idDropout <= 0) return;
        var table = Table.Data;
        var id = IdEmbedding.Data;
        for (var i = 1; i <= _n; i++)
        {
            if (rng.NextDouble() >= _idDropout) continue;
            _dropped[i] = true;
            _anyDropped = true;
            var row = table.AsSpan(i * _d, _d);
            System.Numerics.Tensors.TensorPrimitives.Subtract(row, id.AsSpan(i * _d, _d), row);
        }
    }

    /// <summary>
    /// Adds the gradients of the parts, given dL/d(item_emb) in <c>grads[Table.Index]</c>:
    /// d item_id_emb = d item_emb, dW = textᵀ · d item_emb, db = Σᵢ d item_emb[i] (rows 1..N).
    /// </summary>
    public void Backward(float[][] grads)
    {
        var dTable = grads[Table.Index].AsSpan(_d, _n * _d);
        if (IdEmbedding is not null)
        {
            var dId = grads[IdEmbedding.Index].AsSpan(_d, _n * _d);
            if (!_anyDropped) System.Numerics.Tensors.TensorPrimitives.Add(dId, dTable, dId);
            else
                for (var i = 0; i < _n; i++)
                    if (!_dropped[i + 1])
                        System.Numerics.Tensors.TensorPrimitives.Add(dId.Slice(i * _d, _d), dTable.Slice(i * _d, _d), dId.Slice(i * _d, _d));
        }
        // textᵀ [T, N] read through strides (row stride 1, column stride T), times dTable [N, D].
        Gemm.Multiply(_t, _d, _n, Text.Data.AsSpan(_t), 1, _t, dTable, _d, grads[Weight.Index], _d, accumulate: true);
        var dBias = grads[Bias.Index].AsSpan();
        for (var i = 0; i < _n; i++)
            System.Numerics.Tensors.TensorPrimitives.Add(dBias, dTable.Slice(i * _d, _d), dBias);
    }

    /// <summary>text · W + b for row-major text vectors [count, T]: the vector an item gets from its text alone.</summary>
    public float[] Project(ReadOnlySpan<float> textVectors, int count)
    {
        if (textVectors.Length != count * _t)
            throw new ArgumentException($"Text vectors hold {textVectors.Length} floats; {count} vectors of dimension {_t} need {count * _t}.", nameof(textVectors));
        var result = new float[count * _d];
        if (count == 0) return result;
        Gemm.Multiply(count, _d, _t, textVectors, _t, 1, Weight.Data, _d, result, _d, accumulate: false);
        for (var i = 0; i < count; i++)
        {
            var row = result.AsSpan(i * _d, _d);
            System.Numerics.Tensors.TensorPrimitives.Add(row, Bias.Data, row);
        }
        return result;
    }
}
