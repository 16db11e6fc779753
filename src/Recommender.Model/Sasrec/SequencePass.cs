using System.Numerics.Tensors;
using Recommender.Model.Nn;

namespace Recommender.Model.Sasrec;

/// <summary>
/// Forward and backward pass of <see cref="SasRecModel"/> over the real (non-padding) rows of one left-padded
/// sequence, with every activation the backward pass needs kept in buffers sized for MaxLength and reused
/// from sequence to sequence. Padding rows are skipped: they are zeroed by the mask after every block and,
/// as keys, get an attention weight of exactly zero, so they never influence a real row.
/// One instance per thread.
/// </summary>
internal sealed class SequencePass
{
    private readonly SasRecConfig _config;
    private readonly int _d;
    private readonly int _f;
    private readonly float _embeddingScale;
    private readonly bool _gelu;
    private readonly bool _swiGlu;
    private readonly int _f1;
    private readonly int[] _ids;
    private readonly bool[] _itemDropped;
    private readonly float[] _x0;
    private readonly float[] _mask0;
    private readonly BlockBuffers[] _blocks;
    private readonly float[] _y;
    private readonly float[] _finalXhat;
    private readonly float[] _finalRstd;
    private readonly float[] _gradA;
    private readonly float[] _gradB;
    private readonly float[] _dX1;
    private readonly float[] _dA;
    private readonly float[] _dH;
    private readonly float[] _dG;
    private readonly float[] _dF1;
    private readonly float[] _dq;
    private readonly float[] _dk;
    private readonly float[] _dv;
    private readonly float[] _dContext;
    private readonly float[] _dGate;
    private readonly float[] _dGated;
    private readonly float[] _attentionScratch;
    private readonly float[] _normScratch;
    private bool _training;
    private bool _attentionDropout;
    private float _rate;

    public SequencePass(SasRecConfig config)
    {
        _config = config;
        _d = config.Dimension;
        _f = config.FeedForwardDimension;
        _embeddingScale = MathF.Sqrt(_d);
        _gelu = config.Activation == "gelu";
        _swiGlu = config.Activation == "swiglu";
        _f1 = config.FeedForwardInputWidth;
        var l = config.MaxLength;
        var ld = CausalSelfAttention.Stride(l);
        _ids = new int[l];
        _itemDropped = new bool[l];
        _x0 = new float[l * _d];
        _mask0 = new float[l * _d];
        _blocks = new BlockBuffers[config.Blocks];
        for (var b = 0; b < _blocks.Length; b++) _blocks[b] = new BlockBuffers(l, _d, _f, _f1, config.Heads * l * ld, config.AttentionDropout > 0, config.GatedResidual);
        _y = new float[l * _d];
        _finalXhat = new float[l * _d];
        _finalRstd = new float[l];
        _gradA = new float[l * _d];
        _gradB = new float[l * _d];
        _dX1 = new float[l * _d];
        _dA = new float[l * _d];
        _dH = new float[l * _d];
        _dG = new float[l * _f];
        _dF1 = _swiGlu ? new float[l * _f1] : [];
        _dq = new float[l * _d];
        _dk = new float[l * _d];
        _dv = new float[l * _d];
        _dContext = new float[l * _d];
        _dGate = config.GatedResidual ? new float[l * _d] : [];
        _dGated = config.GatedResidual ? new float[l * _d] : [];
        _attentionScratch = new float[l * ld + (_d / config.Heads) * ld];
        _normScratch = new float[_d];
    }

    /// <summary>Real rows of the last forward pass.</summary>
    public int Rows { get; private set; }

    /// <summary>Window position (0..MaxLength−1) of the first real row.</summary>
    public int FirstPosition { get; private set; }

    /// <summary>Final hidden states [Rows, D] of the last forward pass.</summary>
    public ReadOnlySpan<float> Output => _y.AsSpan(0, Rows * _d);

    /// <summary>
    /// Runs the model over <paramref name="ids"/> (at most MaxLength real dense ids, oldest first), placed at the end
    /// of the window. Dropout is applied only when <paramref name="training"/>, drawing from <paramref name="rng"/>.
    /// </summary>
    public void Forward(SasRecModel model, ReadOnlySpan<int> ids, bool training, ref SplitMix rng)
    {
        var n = ids.Length;
        if (n == 0 || n > _config.MaxLength) throw new ArgumentException($"A pass needs 1..{_config.MaxLength} ids, got {n}.", nameof(ids));
        Rows = n;
        FirstPosition = _config.PositionsFromStart ? 0 : _config.MaxLength - n;
        ids.CopyTo(_ids);
        _training = training && _config.Dropout > 0f;
        _attentionDropout = training && _config.AttentionDropout > 0f;
        _rate = _config.Dropout;
        var d = _d;
        var item = model.ItemEmbedding.Data;
        var position = model.PositionEmbedding.Data;
        // Input item dropout draws before the element dropout, and only when enabled, so runs without it are unchanged.
        var dropItems = training && _config.InputItemDropout > 0f;
        for (var r = 0; r < n; r++)
        {
            _itemDropped[r] = dropItems && rng.NextFloat() < _config.InputItemDropout;
            if (_itemDropped[r]) position.AsSpan((FirstPosition + r) * d, d).CopyTo(_x0.AsSpan(r * d, d));
            else TensorPrimitives.MultiplyAdd(item.AsSpan(ids[r] * d, d), _embeddingScale, position.AsSpan((FirstPosition + r) * d, d), _x0.AsSpan(r * d, d));
        }
        if (_training) Dropout.Apply(_x0.AsSpan(0, n * d), _mask0.AsSpan(0, n * d), _rate, ref rng);

        float[] x = _x0;
        for (var b = 0; b < _blocks.Length; b++)
        {
            var buffers = _blocks[b];
            buffers.Input = x;
            if (_config.NormalisedResidual) ForwardNormalisedResidual(model.Blocks[b], buffers, n, ref rng);
            else if (_config.PreNorm) ForwardPreNorm(model.Blocks[b], buffers, n, ref rng);
            else ForwardPostNorm(model.Blocks[b], buffers, n, ref rng);
            x = buffers.Output;
        }
        LayerNorm.Forward(x.AsSpan(0, n * d), n, d, model.FinalNormWeight.Data, model.FinalNormBias.Data, _y, _finalXhat, _finalRstd);
    }

    /// <summary>Back-propagates dL/dOutput ([Rows, D]) and accumulates every parameter gradient into <paramref name="grads"/> (indexed like <see cref="SasRecModel.Parameters"/>).</summary>
    public void Backward(SasRecModel model, ReadOnlySpan<float> dOutput, float[][] grads)
    {
        var n = Rows;
        var d = _d;
        LayerNorm.Backward(dOutput, _finalXhat, _finalRstd, n, d, model.FinalNormWeight.Data, _gradA, false,
            grads[model.FinalNormWeight.Index], grads[model.FinalNormBias.Index], _normScratch);
        var dOut = _gradA;
        var dIn = _gradB;
        for (var b = _blocks.Length - 1; b >= 0; b--)
        {
            if (_config.NormalisedResidual) BackwardNormalisedResidual(model, model.Blocks[b], _blocks[b], n, dOut, dIn, grads);
            else if (_config.PreNorm) BackwardPreNorm(model, model.Blocks[b], _blocks[b], n, dOut, dIn, grads);
            else BackwardPostNorm(model, model.Blocks[b], _blocks[b], n, dOut, dIn, grads);
            (dOut, dIn) = (dIn, dOut);
        }
        var dx0 = dOut.AsSpan(0, n * d);
        if (_training) Dropout.Backward(dx0, _mask0.AsSpan(0, n * d));
        var dItem = grads[model.ItemEmbedding.Index];
        var dPosition = grads[model.PositionEmbedding.Index];
        for (var r = 0; r < n; r++)
        {
            var row = dx0.Slice(r * d, d);
            if (!_itemDropped[r])
            {
                var itemRow = dItem.AsSpan(_ids[r] * d, d);
                TensorPrimitives.MultiplyAdd(row, _embeddingScale, itemRow, itemRow);
            }
            var positionRow = dPosition.AsSpan((FirstPosition + r) * d, d);
            TensorPrimitives.Add(positionRow, row, positionRow);
        }
    }

    private void ForwardPreNorm(SasRecModel.BlockParameters p, BlockBuffers s, int n, ref SplitMix rng)
    {
        int d = _d, f = _f, nd = n * d;
        LayerNorm.Forward(s.Input.AsSpan(0, nd), n, d, p.Norm1Weight.Data, p.Norm1Bias.Data, s.Norm1Out, s.Norm1Xhat, s.Norm1Rstd);
        Attention(p, s, s.Norm1Out, n, ref rng);
        if (p.Gates is { } gates) AddGatedBranch(s.Input, s.Attention, gates.Gate1Weight, gates.Gate1Bias, s.Gate1, s.X1, n);
        else TensorPrimitives.Add(s.Input.AsSpan(0, nd), s.Attention.AsSpan(0, nd), s.X1.AsSpan(0, nd));
        LayerNorm.Forward(s.X1.AsSpan(0, nd), n, d, p.Norm2Weight.Data, p.Norm2Bias.Data, s.Norm2Out, s.Norm2Xhat, s.Norm2Rstd);
        FeedForward(p, s, s.Norm2Out, n, f, ref rng);
        if (p.Gates is { } g) AddGatedBranch(s.X1, s.F2, g.Gate2Weight, g.Gate2Bias, s.Gate2, s.Output, n);
        else TensorPrimitives.Add(s.X1.AsSpan(0, nd), s.F2.AsSpan(0, nd), s.Output.AsSpan(0, nd));
    }

    /// <summary>
    /// output = stream + g ⊙ branch with g = σ(stream·W + b), how much of the branch each position and channel lets in;
    /// g is kept in <paramref name="gate"/> for the backward pass.
    /// </summary>
    private void AddGatedBranch(float[] stream, float[] branch, Parameter weight, Parameter bias, float[] gate, float[] output, int n)
    {
        var nd = n * _d;
        Linear.Forward(stream.AsSpan(0, nd), n, _d, weight.Data, bias.Data, gate, _d);
        TensorPrimitives.Sigmoid(gate.AsSpan(0, nd), gate.AsSpan(0, nd));
        TensorPrimitives.MultiplyAdd(gate.AsSpan(0, nd), branch.AsSpan(0, nd), stream.AsSpan(0, nd), output.AsSpan(0, nd));
    }

    /// <summary>
    /// For y = stream + g ⊙ branch with g = σ(z): dL/d(branch) = dy ⊙ g into _dGated, and dL/dz = dy ⊙ branch ⊙ g(1 − g)
    /// into _dGate (the stream's own share, dy, is the caller's).
    /// </summary>
    private void GatedBranchBackward(ReadOnlySpan<float> dy, float[] gate, float[] branch, int nd)
    {
        TensorPrimitives.Multiply(dy, gate.AsSpan(0, nd), _dGated.AsSpan(0, nd));
        var dz = _dGate.AsSpan(0, nd);
        TensorPrimitives.Multiply(dy, branch.AsSpan(0, nd), dz);
        for (var i = 0; i < dz.Length; i++) dz[i] *= gate[i] * (1f - gate[i]);
    }

    private void ForwardNormalisedResidual(SasRecModel.BlockParameters p, BlockBuffers s, int n, ref SplitMix rng)
    {
        int d = _d, f = _f, nd = n * d;
        LayerNorm.Forward(s.Input.AsSpan(0, nd), n, d, p.Norm1Weight.Data, p.Norm1Bias.Data, s.Norm1Out, s.Norm1Xhat, s.Norm1Rstd);
        Attention(p, s, s.Norm1Out, s.Input, n, ref rng);
        TensorPrimitives.Add(s.Norm1Out.AsSpan(0, nd), s.Attention.AsSpan(0, nd), s.X1.AsSpan(0, nd));
        LayerNorm.Forward(s.X1.AsSpan(0, nd), n, d, p.Norm2Weight.Data, p.Norm2Bias.Data, s.Norm2Out, s.Norm2Xhat, s.Norm2Rstd);
        FeedForward(p, s, s.Norm2Out, n, f, ref rng);
        TensorPrimitives.Add(s.Norm2Out.AsSpan(0, nd), s.F2.AsSpan(0, nd), s.Output.AsSpan(0, nd));
    }

    private void ForwardPostNorm(SasRecModel.BlockParameters p, BlockBuffers s, int n, ref SplitMix rng)
    {
        int d = _d, f = _f, nd = n * d;
        Attention(p, s, s.Input, n, ref rng);
        TensorPrimitives.Add(s.Input.AsSpan(0, nd), s.Attention.AsSpan(0, nd), s.Sum.AsSpan(0, nd));
        LayerNorm.Forward(s.Sum.AsSpan(0, nd), n, d, p.Norm1Weight.Data, p.Norm1Bias.Data, s.X1, s.Norm1Xhat, s.Norm1Rstd);
        FeedForward(p, s, s.X1, n, f, ref rng);
        TensorPrimitives.Add(s.X1.AsSpan(0, nd), s.F2.AsSpan(0, nd), s.Sum.AsSpan(0, nd));
        LayerNorm.Forward(s.Sum.AsSpan(0, nd), n, d, p.Norm2Weight.Data, p.Norm2Bias.Data, s.Output, s.Norm2Xhat, s.Norm2Rstd);
    }

    private void Attention(SasRecModel.BlockParameters p, BlockBuffers s, float[] input, int n, ref SplitMix rng) =>
        Attention(p, s, input, input, n, ref rng);

    /// <summary>Queries read <paramref name="queryInput"/>; keys and values read <paramref name="contextInput"/>.</summary>
    private void Attention(SasRecModel.BlockParameters p, BlockBuffers s, float[] queryInput, float[] contextInput, int n, ref SplitMix rng)
    {
        var d = _d;
        var x = contextInput.AsSpan(0, n * d);
        Linear.Forward(queryInput.AsSpan(0, n * d), n, d, p.QueryWeight.Data, p.QueryBias.Data, s.Q, d);
        Linear.Forward(x, n, d, p.KeyWeight.Data, p.KeyBias.Data, s.K, d);
        Linear.Forward(x, n, d, p.ValueWeight.Data, p.ValueBias.Data, s.V, d);
        if (_attentionDropout) FillAttentionMask(s.AttentionMask, n, ref rng);
        CausalSelfAttention.Forward(s.Q, s.K, s.V, n, d, _config.Heads, s.Probabilities, s.Context, _attentionScratch,
            _attentionDropout ? s.AttentionMask : default, _attentionDropout ? s.Dropped : default, p.Recency is { } r ? r.Data : default);
        Linear.Forward(s.Context.AsSpan(0, n * d), n, d, p.OutWeight.Data, p.OutBias.Data, s.Attention, d);
        if (_training) Dropout.Apply(s.Attention.AsSpan(0, n * d), s.Mask1.AsSpan(0, n * d), _rate, ref rng);
    }

    private void FeedForward(SasRecModel.BlockParameters p, BlockBuffers s, float[] input, int n, int f, ref SplitMix rng)
    {
        var d = _d;
        Linear.Forward(input.AsSpan(0, n * d), n, d, p.Fc1Weight.Data, p.Fc1Bias.Data, s.F1, _f1);
        if (_swiGlu) SwiGlu.Forward(s.F1.AsSpan(0, n * _f1), n, f, s.G.AsSpan(0, n * f));
        else Activation.Forward(_gelu, s.F1.AsSpan(0, n * f), s.G.AsSpan(0, n * f));
        if (_training) Dropout.Apply(s.G.AsSpan(0, n * f), s.Mask2.AsSpan(0, n * f), _rate, ref rng);
        Linear.Forward(s.G.AsSpan(0, n * f), n, f, p.Fc2Weight.Data, p.Fc2Bias.Data, s.F2, d);
        if (_training) Dropout.Apply(s.F2.AsSpan(0, n * d), s.Mask3.AsSpan(0, n * d), _rate, ref rng);
    }

    private void BackwardPreNorm(SasRecModel model, SasRecModel.BlockParameters p, BlockBuffers s, int n, float[] dOut, float[] dIn, float[][] grads)
    {
        var nd = n * _d;
        if (p.Gates is { } g)
        {
            BackwardGatedPreNorm(model, p, g, s, n, dOut, dIn, grads);
            return;
        }
        // Output = X1 + FFN(LN2(X1)); X1 = Input + MHA(LN1(Input)).
        FeedForwardBackward(model, p, s, s.Norm2Out, n, dOut, grads);
        dOut.AsSpan(0, nd).CopyTo(_dX1);
        LayerNorm.Backward(_dH.AsSpan(0, nd), s.Norm2Xhat, s.Norm2Rstd, n, _d, p.Norm2Weight.Data, _dX1, true,
            grads[p.Norm2Weight.Index], grads[p.Norm2Bias.Index], _normScratch);
        AttentionBackward(model, p, s, n, _dX1, s.Norm1Out, _dH, accumulateQuery: false, s.Norm1Out, _dH, accumulateContext: true, grads);
        _dX1.AsSpan(0, nd).CopyTo(dIn);
        LayerNorm.Backward(_dH.AsSpan(0, nd), s.Norm1Xhat, s.Norm1Rstd, n, _d, p.Norm1Weight.Data, dIn, true,
            grads[p.Norm1Weight.Index], grads[p.Norm1Bias.Index], _normScratch);
    }

    private void BackwardGatedPreNorm(SasRecModel model, SasRecModel.BlockParameters p, SasRecModel.GateParameters g, BlockBuffers s, int n, float[] dOut, float[] dIn, float[][] grads)
    {
        int d = _d, nd = n * d;
        // Output = X1 + G2 ⊙ FFN(LN2(X1)), G2 = σ(X1·W2 + b2); X1 = Input + G1 ⊙ MHA(LN1(Input)), G1 = σ(Input·W1 + b1).
        GatedBranchBackward(dOut.AsSpan(0, nd), s.Gate2, s.F2, nd);
        FeedForwardBackward(model, p, s, s.Norm2Out, n, _dGated, grads);
        dOut.AsSpan(0, nd).CopyTo(_dX1);
        Linear.Backward(s.X1.AsSpan(0, nd), _dGate.AsSpan(0, nd), n, d, d, model.Transposed(g.Gate2Weight), _dX1, true, grads[g.Gate2Weight.Index], grads[g.Gate2Bias.Index]);
        LayerNorm.Backward(_dH.AsSpan(0, nd), s.Norm2Xhat, s.Norm2Rstd, n, d, p.Norm2Weight.Data, _dX1, true,
            grads[p.Norm2Weight.Index], grads[p.Norm2Bias.Index], _normScratch);
        GatedBranchBackward(_dX1.AsSpan(0, nd), s.Gate1, s.Attention, nd);
        AttentionBackward(model, p, s, n, _dGated, s.Norm1Out, _dH, accumulateQuery: false, s.Norm1Out, _dH, accumulateContext: true, grads);
        _dX1.AsSpan(0, nd).CopyTo(dIn);
        Linear.Backward(s.Input.AsSpan(0, nd), _dGate.AsSpan(0, nd), n, d, d, model.Transposed(g.Gate1Weight), dIn, true, grads[g.Gate1Weight.Index], grads[g.Gate1Bias.Index]);
        LayerNorm.Backward(_dH.AsSpan(0, nd), s.Norm1Xhat, s.Norm1Rstd, n, d, p.Norm1Weight.Data, dIn, true,
            grads[p.Norm1Weight.Index], grads[p.Norm1Bias.Index], _normScratch);
    }

    private void BackwardNormalisedResidual(SasRecModel model, SasRecModel.BlockParameters p, BlockBuffers s, int n, float[] dOut, float[] dIn, float[][] grads)
    {
        int d = _d, nd = n * d;
        // Output = G + FFN(G), G = LN2(X1); X1 = H + MHA(query H, context Input), H = LN1(Input).
        FeedForwardBackward(model, p, s, s.Norm2Out, n, dOut, grads);
        TensorPrimitives.Add(dOut.AsSpan(0, nd), _dH.AsSpan(0, nd), dOut.AsSpan(0, nd)); // dL/dG; dOut is not read again
        LayerNorm.Backward(dOut.AsSpan(0, nd), s.Norm2Xhat, s.Norm2Rstd, n, d, p.Norm2Weight.Data, _dX1, false,
            grads[p.Norm2Weight.Index], grads[p.Norm2Bias.Index], _normScratch);
        // _dX1 is dL/dX1 and, through the residual, the first part of dL/dH; the queries add the rest.
        AttentionBackward(model, p, s, n, _dX1, s.Norm1Out, _dX1, accumulateQuery: true, s.Input, dIn, accumulateContext: false, grads);
        LayerNorm.Backward(_dX1.AsSpan(0, nd), s.Norm1Xhat, s.Norm1Rstd, n, d, p.Norm1Weight.Data, dIn, true,
            grads[p.Norm1Weight.Index], grads[p.Norm1Bias.Index], _normScratch);
    }

    private void BackwardPostNorm(SasRecModel model, SasRecModel.BlockParameters p, BlockBuffers s, int n, float[] dOut, float[] dIn, float[][] grads)
    {
        var nd = n * _d;
        // Output = LN2(X1 + FFN(X1)); X1 = LN1(Input + MHA(Input)).
        LayerNorm.Backward(dOut.AsSpan(0, nd), s.Norm2Xhat, s.Norm2Rstd, n, _d, p.Norm2Weight.Data, _dX1, false,
            grads[p.Norm2Weight.Index], grads[p.Norm2Bias.Index], _normScratch);
        FeedForwardBackward(model, p, s, s.X1, n, _dX1, grads);
        TensorPrimitives.Add(_dX1.AsSpan(0, nd), _dH.AsSpan(0, nd), _dX1.AsSpan(0, nd));
        LayerNorm.Backward(_dX1.AsSpan(0, nd), s.Norm1Xhat, s.Norm1Rstd, n, _d, p.Norm1Weight.Data, dIn, false,
            grads[p.Norm1Weight.Index], grads[p.Norm1Bias.Index], _normScratch);
        AttentionBackward(model, p, s, n, dIn, s.Input, dIn, accumulateQuery: true, s.Input, dIn, accumulateContext: true, grads);
    }

    /// <summary>Given dL/d(FFN output) writes dL/d(FFN input) to _dH.</summary>
    private void FeedForwardBackward(SasRecModel model, SasRecModel.BlockParameters p, BlockBuffers s, float[] input, int n, float[] dOutput, float[][] grads)
    {
        int d = _d, f = _f;
        dOutput.AsSpan(0, n * d).CopyTo(_dA);
        var dF2 = _dA.AsSpan(0, n * d);
        if (_training) Dropout.Backward(dF2, s.Mask3.AsSpan(0, n * d));
        Linear.Backward(s.G.AsSpan(0, n * f), dF2, n, f, d, model.Transposed(p.Fc2Weight), _dG, false, grads[p.Fc2Weight.Index], grads[p.Fc2Bias.Index]);
        var dG = _dG.AsSpan(0, n * f);
        if (_training) Dropout.Backward(dG, s.Mask2.AsSpan(0, n * f));
        if (_swiGlu)
        {
            SwiGlu.Backward(s.F1.AsSpan(0, n * _f1), dG, n, f, _dF1.AsSpan(0, n * _f1));
            dG = _dF1.AsSpan(0, n * _f1);
        }
        else Activation.Backward(_gelu, s.F1.AsSpan(0, n * f), dG, dG);
        Linear.Backward(input.AsSpan(0, n * d), dG, n, d, _f1, model.Transposed(p.Fc1Weight), _dH, false, grads[p.Fc1Weight.Index], grads[p.Fc1Bias.Index]);
    }

    /// <summary>
    /// Given dL/d(attention output, before dropout) in <paramref name="dOutput"/>, writes (or adds) dL/d(query input) to
    /// <paramref name="dQueryInput"/> and dL/d(key and value input) to <paramref name="dContextInput"/>; the two may be one
    /// buffer when queries, keys and values read the same input. <paramref name="dOutput"/> is read before anything is written.
    /// </summary>
    private void AttentionBackward(SasRecModel model, SasRecModel.BlockParameters p, BlockBuffers s, int n, float[] dOutput,
        float[] queryInput, float[] dQueryInput, bool accumulateQuery, float[] contextInput, float[] dContextInput, bool accumulateContext, float[][] grads)
    {
        var d = _d;
        var nd = n * d;
        dOutput.AsSpan(0, nd).CopyTo(_dA);
        var dA = _dA.AsSpan(0, nd);
        if (_training) Dropout.Backward(dA, s.Mask1.AsSpan(0, nd));
        Linear.Backward(s.Context.AsSpan(0, nd), dA, n, d, d, model.Transposed(p.OutWeight), _dContext, false, grads[p.OutWeight.Index], grads[p.OutBias.Index]);
        CausalSelfAttention.Backward(s.Q, s.K, s.V, s.Probabilities, _dContext, n, _d, _config.Heads, _dq, _dk, _dv, _attentionScratch,
            _attentionDropout ? s.AttentionMask : default, _attentionDropout ? s.Dropped : default, p.Recency is { } r ? grads[r.Index] : default);
        Linear.Backward(queryInput.AsSpan(0, nd), _dq.AsSpan(0, nd), n, d, d, model.Transposed(p.QueryWeight), dQueryInput, accumulateQuery, grads[p.QueryWeight.Index], grads[p.QueryBias.Index]);
        var x = contextInput.AsSpan(0, nd);
        Linear.Backward(x, _dk.AsSpan(0, nd), n, d, d, model.Transposed(p.KeyWeight), dContextInput, accumulateContext, grads[p.KeyWeight.Index], grads[p.KeyBias.Index]);
        Linear.Backward(x, _dv.AsSpan(0, nd), n, d, d, model.Transposed(p.ValueWeight), dContextInput, true, grads[p.ValueWeight.Index], grads[p.ValueBias.Index]);
    }

    /// <summary>Inverted-dropout factors for the causal part (key j ≤ query i) of every head's [n, Stride(n)] weights.</summary>
    private void FillAttentionMask(float[] mask, int n, ref SplitMix rng)
    {
        var ld = CausalSelfAttention.Stride(n);
        for (var h = 0; h < _config.Heads; h++)
            for (var i = 0; i < n; i++)
                Dropout.Fill(mask.AsSpan(h * n * ld + i * ld, i + 1), _config.AttentionDropout, ref rng);
    }

    /// <summary>Per-block activations.</summary>
    private sealed class BlockBuffers(int l, int d, int f, int f1, int probabilityLength, bool attentionDropout, bool gated)
    {
        public readonly float[] Gate1 = gated ? new float[l * d] : [];
        public readonly float[] Gate2 = gated ? new float[l * d] : [];
        public readonly float[] AttentionMask = attentionDropout ? new float[probabilityLength] : [];
        public readonly float[] Dropped = attentionDropout ? new float[probabilityLength] : [];
        public float[] Input = [];
        public readonly float[] Norm1Xhat = new float[l * d];
        public readonly float[] Norm1Rstd = new float[l];
        public readonly float[] Norm1Out = new float[l * d];
        public readonly float[] Q = new float[l * d];
        public readonly float[] K = new float[l * d];
        public readonly float[] V = new float[l * d];
        public readonly float[] Probabilities = new float[probabilityLength];
        public readonly float[] Context = new float[l * d];
        public readonly float[] Attention = new float[l * d];
        public readonly float[] Mask1 = new float[l * d];
        public readonly float[] X1 = new float[l * d];
        public readonly float[] Sum = new float[l * d];
        public readonly float[] Norm2Xhat = new float[l * d];
        public readonly float[] Norm2Rstd = new float[l];
        public readonly float[] Norm2Out = new float[l * d];
        public readonly float[] F1 = new float[l * f1];
        public readonly float[] G = new float[l * f];
        public readonly float[] Mask2 = new float[l * f];
        public readonly float[] F2 = new float[l * d];
        public readonly float[] Mask3 = new float[l * d];
        public readonly float[] Output = new float[l * d];
    }
}
