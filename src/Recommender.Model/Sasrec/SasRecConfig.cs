namespace Recommender.Model.Sasrec;

/// <summary>Shape and regularisation of a SASRec-family causal transformer.</summary>
public sealed record SasRecConfig
{
    /// <summary>
    /// Number of real items; dense ids run 1..ItemCount and 0 is padding. At most <see cref="ModelLimits.MaxItemCount"/>,
    /// and the item table (ItemCount + 1) × Dimension at most <see cref="ModelLimits.MaxTensorElements"/> values.
    /// </summary>
    public required int ItemCount { get; init; }

    /// <summary>Most recent items the model sees; at most <see cref="ModelLimits.MaxSequenceLength"/>.</summary>
    public int MaxLength { get; init; } = 200;

    /// <summary>Width of item and hidden vectors, a multiple of Heads; at most <see cref="ModelLimits.MaxDimension"/>.</summary>
    public int Dimension { get; init; } = 64;

    /// <summary>Transformer blocks; at most <see cref="ModelLimits.MaxBlocks"/>.</summary>
    public int Blocks { get; init; } = 2;

    /// <summary>Attention heads, dividing Dimension; at most <see cref="ModelLimits.MaxHeads"/>.</summary>
    public int Heads { get; init; } = 1;

    /// <summary>Hidden width of the position-wise feed-forward layer; at most <see cref="ModelLimits.MaxFeedForwardDimension"/>.</summary>
    public int FeedForwardDimension { get; init; } = 64;

    public float Dropout { get; init; } = 0.2f;

    /// <summary>Dropout on the attention weights (each query's softmax over the keys), as the original SASRec code has; 0 = none.</summary>
    public float AttentionDropout { get; init; }

    /// <summary>
    /// Chance that a history item is left out of a training pass's input: its position keeps its position embedding
    /// but gets no item embedding, as if the event were unknown. Teaches the model not to lean on any single past
    /// item; targets are unaffected. 0 = none.
    /// </summary>
    public float InputItemDropout { get; init; }

    /// <summary>Pre-layer-norm blocks (x + f(LN(x))) when true; post-norm (LN(x + f(x))) when false.</summary>
    public bool PreNorm { get; init; } = true;

    /// <summary>
    /// Pre-norm only: the block of the original SASRec code, h = LN1(x), a = h + MHA(query h, keys and values x),
    /// g = LN2(a), out = g + FFN(g): the residual stream is re-normalised in every block, which keeps the scale of
    /// the scaled item embeddings from dominating deeper layers.
    /// </summary>
    public bool NormalisedResidual { get; init; }

    /// <summary>
    /// Where position 0 is: false counts positions back from the window's end (the newest item is always at MaxLength − 1);
    /// true counts them from the first item the model sees (the oldest item in the window is at 0), so the model knows
    /// how far into a history it is, which matters where early events differ from later ones (sign-up ratings).
    /// </summary>
    public bool PositionsFromStart { get; init; }

    /// <summary>Standard deviation of the normal initialisation of embeddings and matrices; 0 uses Xavier-normal.</summary>
    public float InitStd { get; init; }

    /// <summary>
    /// "relu" or "gelu" (tanh approximation) in the feed-forward layer, or "swiglu": the first layer is twice as wide and
    /// each half gates the other, a ⊙ SiLU(b) (see <see cref="Nn.SwiGlu"/>).
    /// </summary>
    public string Activation { get; init; } = "relu";

    /// <summary>Output width of the feed-forward layer's first matrix: twice the hidden width for SwiGLU, which splits it in two.</summary>
    public int FeedForwardInputWidth => Activation == "swiglu" ? 2 * FeedForwardDimension : FeedForwardDimension;

    /// <summary>What an item vector is made of: "id", "text" or "id+text" (see <see cref="ItemRepresentation"/>).</summary>
    public string ItemRepresentation { get; init; } = Packaging.ItemRepresentations.Id;

    /// <summary>Width of the frozen item text vectors; 0 for "id", at most <see cref="ModelLimits.MaxTextDimension"/> otherwise.</summary>
    public int TextDimension { get; init; }

    /// <summary>Name of the sentence encoder that produced the text vectors; null for "id".</summary>
    public string? TextEncoder { get; init; }

    /// <summary>How the item text was composed before encoding; null for "id".</summary>
    public string? TextTemplate { get; init; }

    /// <summary>
    /// "id+text" only: chance that an item's id row is left out for a whole training step, so that it is represented by
    /// its text alone; teaches the model to rank items that have no trained id row (new items) against those that do.
    /// </summary>
    public float ItemIdDropout { get; init; }

    /// <summary>
    /// 0 scores an item by the dot product of the user vector and its embedding. A positive value scores it by their
    /// cosine divided by this temperature: both vectors are L2-normalised, so no item wins by the length of its
    /// embedding alone and the softmax's sharpness is set by the temperature instead of by growing norms.
    /// </summary>
    public float Temperature { get; init; }

    /// <summary>
    /// False (the SASRec default) scores items with the same table the encoder reads them from; true gives the output
    /// side its own table (out_emb), so an item's vector as a next-item candidate need not equal its vector as history.
    /// The package's scoring table is then out_emb. Id items only.
    /// </summary>
    public bool SeparateOutputEmbedding { get; init; }

    /// <summary>
    /// Adds a learned recency term to every attention score: query i's score for key j gains −w·(i − j), one w per head
    /// and block (blocks.{b}.attn.recency, starting at 0). Learned absolute positions can only approximate "how long
    /// ago"; this term states it directly and holds for any window length.
    /// </summary>
    public bool RecencyBias { get; init; }

    /// <summary>
    /// Pre-norm blocks only: each residual branch is scaled by a learned gate read from the stream it is added to,
    /// x + σ(x·W + b) ⊙ f(LN(x)) (blocks.{b}.gate1 for attention, gate2 for the feed-forward layer), as in the LiGR layer,
    /// so that a block can decide per position and channel how much of its branch to let in.
    /// </summary>
    public bool GatedResidual { get; init; }

    /// <summary>True when scores are cosines divided by <see cref="Temperature"/>.</summary>
    public bool ScoresByCosine => Temperature > 0;

    public void Validate()
    {
        // Sizes first: every buffer of the model and of a training pass is a product of them.
        ModelLimits.CheckSize(ItemCount, nameof(ItemCount), ModelLimits.MaxItemCount);
        ModelLimits.CheckSize(MaxLength, nameof(MaxLength), ModelLimits.MaxSequenceLength);
        ModelLimits.CheckSize(Dimension, nameof(Dimension), ModelLimits.MaxDimension);
        ModelLimits.CheckSize(Heads, nameof(Heads), ModelLimits.MaxHeads);
        if (Dimension % Heads != 0) throw new ArgumentException($"Dimension {Dimension} must be a positive multiple of Heads {Heads}.");
        ModelLimits.CheckSize(Blocks, nameof(Blocks), ModelLimits.MaxBlocks);
        ModelLimits.CheckSize(FeedForwardDimension, nameof(FeedForwardDimension), ModelLimits.MaxFeedForwardDimension);
        ModelLimits.CheckTensor("item table (ItemCount + 1) x Dimension", ItemCount + 1L, Dimension);
        if (TextDimension > ModelLimits.MaxTextDimension)
            throw new ArgumentException($"{nameof(TextDimension)} is {TextDimension}; it must be at most {ModelLimits.MaxTextDimension:N0}.");
        if (NormalisedResidual && !PreNorm) throw new ArgumentException("The normalised-residual block is a pre-norm block; it cannot be combined with post-norm.");
        if (GatedResidual && (!PreNorm || NormalisedResidual))
            throw new ArgumentException("Gated residuals apply to the plain pre-norm block only, not to post-norm or normalised-residual blocks.");
        OptionRange.NonNegative.Check(InitStd, nameof(InitStd));
        OptionRange.Rate.Check(AttentionDropout, nameof(AttentionDropout));
        OptionRange.Rate.Check(Dropout, nameof(Dropout));
        OptionRange.Rate.Check(InputItemDropout, nameof(InputItemDropout));
        if (Temperature < 0 || !float.IsFinite(Temperature)) throw new ArgumentException($"Temperature {Temperature} must be 0 (dot product) or positive (cosine / temperature).");
        if (ScoresByCosine && ItemRepresentation != Packaging.ItemRepresentations.Id)
            throw new ArgumentException($"A temperature (cosine scores) applies to the id item representation only, not '{ItemRepresentation}'.");
        if (SeparateOutputEmbedding && ItemRepresentation != Packaging.ItemRepresentations.Id)
            throw new ArgumentException($"A separate output embedding applies to the id item representation only, not '{ItemRepresentation}'.");
        if (Activation is not ("relu" or "gelu" or "swiglu")) throw new ArgumentException($"Activation '{Activation}' is not relu, gelu or swiglu.");
        if (!Packaging.ItemRepresentations.All.Contains(ItemRepresentation))
            throw new ArgumentException($"Item representation '{ItemRepresentation}' is not one of {string.Join(", ", Packaging.ItemRepresentations.All)}.");
        if (Packaging.ItemRepresentations.UsesText(ItemRepresentation) ? TextDimension <= 0 : TextDimension != 0)
            throw new ArgumentException($"Item representation '{ItemRepresentation}' does not fit text dimension {TextDimension}.");
        OptionRange.Rate.Check(ItemIdDropout, nameof(ItemIdDropout));
        if (ItemIdDropout > 0 && ItemRepresentation != Packaging.ItemRepresentations.IdAndText)
            throw new ArgumentException($"Item id dropout applies to the id+text representation only, not '{ItemRepresentation}'.");
        if (Packaging.ItemRepresentations.UsesText(ItemRepresentation) && string.IsNullOrWhiteSpace(TextEncoder))
            throw new ArgumentException($"Item representation '{ItemRepresentation}' needs the name of the text encoder.");
    }
}
