using Recommender.Model.Sasrec;

namespace Recommender.Model.Training;

/// <summary>
/// Adam with bias correction; with a weight decay it is AdamW (decay applied to the weights directly, not through
/// the gradient). Layer-norm parameters, biases and the padding row are never decayed; the padding row of the item
/// embeddings is never updated.
/// </summary>
public sealed class AdamOptimizer
{
    private readonly SasRecModel _model;
    private readonly float[][] _m;
    private readonly float[][] _v;

    public AdamOptimizer(SasRecModel model, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.98, double epsilon = 1e-8, double weightDecay = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        OptionRange.Positive.Check(learningRate, nameof(learningRate));
        OptionRange.Rate.Check(beta1, nameof(beta1));
        OptionRange.Rate.Check(beta2, nameof(beta2));
        OptionRange.Positive.Check(epsilon, nameof(epsilon));
        OptionRange.NonNegative.Check(weightDecay, nameof(weightDecay));
        _model = model;
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        _m = model.Parameters.Select(p => new float[p.Data.Length]).ToArray();
        _v = model.Parameters.Select(p => new float[p.Data.Length]).ToArray();
    }

    public double LearningRate { get; set; }

    public double Beta1 { get; }

    public double Beta2 { get; }

    public double Epsilon { get; }

    public double WeightDecay { get; }

    /// <summary>Steps taken so far (the bias correction depends on it).</summary>
    public long Step { get; private set; }

    /// <summary>Applies one update from the parameters' Grad arrays.</summary>
    public void Update()
    {
        Step++;
        var correction1 = 1 - Math.Pow(Beta1, Step);
        var correction2 = 1 - Math.Pow(Beta2, Step);
        var stepSize = (float)(LearningRate / correction1);
        var sqrtCorrection2 = (float)Math.Sqrt(correction2);
        float b1 = (float)Beta1, b2 = (float)Beta2, eps = (float)Epsilon;
        for (var index = 0; index < _model.Parameters.Count; index++)
        {
            var p = _model.Parameters[index];
            if (!p.Trainable) continue;
            var decay = WeightDecay > 0 && p.Shape.Length == 2 ? (float)(LearningRate * WeightDecay) : 0f;
            var start = p == _model.ItemEmbedding || p == _model.OutputEmbedding ? _model.Config.Dimension : 0;
            float[] w = p.Data, g = p.Grad, m = _m[index], v = _v[index];
            for (var i = start; i < w.Length; i++)
            {
                var gi = g[i];
                m[i] = b1 * m[i] + (1 - b1) * gi;
                v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                var update = stepSize * m[i] / (MathF.Sqrt(v[i]) / sqrtCorrection2 + eps);
                w[i] = w[i] - update - decay * w[i];
            }
        }
    }

    public void Save(BinaryWriter writer)
    {
        writer.Write(Step);
        for (var i = 0; i < _m.Length; i++)
        {
            writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_m[i].AsSpan()));
            writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_v[i].AsSpan()));
        }
    }

    /// <summary>Reads what <see cref="Save"/> wrote for a model of the same shape.</summary>
    /// <exception cref="EndOfStreamException">The state ends before every moment is read.</exception>
    public void Load(BinaryReader reader)
    {
        Step = reader.ReadInt64();
        for (var i = 0; i < _m.Length; i++)
        {
            Read(_m[i]);
            Read(_v[i]);
        }

        // ReadExactly, not Read: a short read is an EndOfStreamException the caller turns into "file is truncated".
        void Read(float[] target) => reader.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(target.AsSpan()));
    }
}
