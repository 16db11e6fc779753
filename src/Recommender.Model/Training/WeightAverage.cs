using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Recommender.Model.Sasrec;

namespace Recommender.Model.Training;

/// <summary>
/// An exponential moving average of the trainable parameters, updated after every optimiser step:
/// average ← d·average + (1 − d)·weights. Validation and the saved best checkpoint use the average, which smooths
/// out the noise of the last steps; training continues from the raw weights. Early on, d is min(decay, (1 + t) / (10 + t))
/// for step t, so the average is not dominated by the initial weights.
/// </summary>
public sealed class WeightAverage
{
    private readonly SasRecModel _model;
    private readonly float[][] _average;

    public WeightAverage(SasRecModel model, double decay)
    {
        ArgumentNullException.ThrowIfNull(model);
        OptionRange.Rate.Check(decay, nameof(decay));
        _model = model;
        Decay = decay;
        _average = model.Parameters.Select(p => p.Trainable ? (float[])p.Data.Clone() : []).ToArray();
    }

    public double Decay { get; }

    /// <summary>Folds the current weights into the average; <paramref name="step"/> is the optimiser step just taken (1-based).</summary>
    public void Update(long step)
    {
        var d = (float)Math.Min(Decay, (1.0 + step) / (10.0 + step));
        for (var i = 0; i < _average.Length; i++)
        {
            // average = d·average + (1 − d)·weights.
            if (_average[i].Length > 0) TensorPrimitives.Lerp(_average[i], _model.Parameters[i].Data, 1 - d, _average[i]);
        }
    }

    /// <summary>
    /// Exchanges the model's trainable weights with the average (a second call swaps them back) and rebuilds what is
    /// derived from them, so the model's forward pass uses whichever set is in place.
    /// </summary>
    public void Swap()
    {
        for (var i = 0; i < _average.Length; i++)
        {
            if (_average[i].Length == 0) continue;
            // An exact exchange, so that swapping back leaves the raw weights bit for bit as they were.
            var average = _average[i].AsSpan();
            var weights = _model.Parameters[i].Data.AsSpan();
            for (var j = 0; j < average.Length; j++) (average[j], weights[j]) = (weights[j], average[j]);
        }
        _model.RefreshTransposes();
    }

    public void Save(BinaryWriter writer)
    {
        foreach (var values in _average) writer.Write(MemoryMarshal.AsBytes(values.AsSpan()));
    }

    /// <summary>Reads what <see cref="Save"/> wrote for a model of the same shape.</summary>
    /// <exception cref="EndOfStreamException">The state ends before the average does.</exception>
    public void Load(BinaryReader reader)
    {
        foreach (var values in _average) reader.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
    }

    /// <summary>Skips an average of <paramref name="model"/>'s shape in a state read without one.</summary>
    internal static void Skip(BinaryReader reader, SasRecModel model)
    {
        foreach (var p in model.Parameters.Where(p => p.Trainable))
            reader.ReadExactly(new byte[p.Data.Length * sizeof(float)]);
    }
}
