namespace Recommender.Model.Sasrec;

/// <summary>Shape and regularisation of a SASRec-family causal transformer.</summary>
public sealed record SasRecConfig
{
    /// <summary>Number of real items; dense ids run 1..ItemCount and 0 is padding.</summary>
    public required int ItemCount { get; init; }

    public int MaxLength { get; init; } = 200;

    public int Dimension { get; init; } = 64;

    public int Blocks { get; init; } = 2;

    public int Heads { get; init; } = 1;

    /// <summary>Hidden width of the position-wise feed-forward layer.</summary>
    public int FeedForwardDimension { get; init; } = 64;

    public float Dropout { get; init; } = 0.2f;

    /// <summary>Pre-layer-norm blocks (x + f(LN(x))) when true; post-norm (LN(x + f(x))) when false.</summary>
    public bool PreNorm { get; init; } = true;

    /// <summary>"relu" or "gelu" (tanh approximation) in the feed-forward layer.</summary>
    public string Activation { get; init; } = "relu";

    public void Validate()
    {
        if (ItemCount <= 0) throw new ArgumentException("ItemCount must be positive.");
        if (MaxLength <= 0) throw new ArgumentException("MaxLength must be positive.");
        if (Dimension <= 0 || Heads <= 0 || Dimension % Heads != 0) throw new ArgumentException($"Dimension {Dimension} must be a positive multiple of Heads {Heads}.");
        if (Blocks <= 0) throw new ArgumentException("Blocks must be positive.");
        if (FeedForwardDimension <= 0) throw new ArgumentException("FeedForwardDimension must be positive.");
        if (Dropout is < 0 or >= 1) throw new ArgumentException("Dropout must be in [0, 1).");
        if (Activation is not ("relu" or "gelu")) throw new ArgumentException($"Activation '{Activation}' is not relu or gelu.");
    }
}
