namespace Recommender.Model.Sasrec;

/// <summary>One learnable tensor: row-major values and the gradient accumulated for them.</summary>
public sealed class Parameter
{
    public Parameter(string name, int[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (shape.Length == 0 || shape.Any(d => d <= 0)) throw new ArgumentException($"Parameter '{name}' needs a non-empty shape of positive sizes.", nameof(shape));
        Name = name;
        Shape = shape;
        // Checked so that a shape too large for one array is named here, not an OverflowException inside the allocation.
        var length = shape.Aggregate(1L, (a, d) => a > ModelLimits.MaxTensorElements ? a : a * d);
        if (length > ModelLimits.MaxTensorElements)
            throw new ArgumentException($"Parameter '{name}' [{string.Join(", ", shape)}] would hold more than {ModelLimits.MaxTensorElements:N0} values.", nameof(shape));
        Data = new float[length];
        Grad = new float[length];
    }

    public string Name { get; }

    public int[] Shape { get; }

    public float[] Data { get; }

    public float[] Grad { get; }

    /// <summary>Position in <see cref="SasRecModel.Parameters"/>.</summary>
    internal int Index { get; init; }

    /// <summary>False for tensors the optimiser leaves alone: frozen inputs and tables computed from other parameters.</summary>
    internal bool Trainable { get; set; } = true;

    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]";
}
