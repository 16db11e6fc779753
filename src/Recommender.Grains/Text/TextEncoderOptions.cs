namespace Recommender.Grains.Text;

/// <summary>How each silo runs the frozen sentence encoder that turns item texts into text vectors ("Recommender:TextEncoder").</summary>
public sealed class TextEncoderOptions
{
    /// <summary>Encode item texts on PUT/POST /items (false: items keep no text vector and only explicit embeddings place new items).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A batch closes when it holds this many texts... (also bounds how long a waiting recommendation can be held up by text encoding)</summary>
    public int MaxBatch { get; set; } = 32;

    /// <summary>
    /// ...or this long after its first request arrived. Zero, the default: take what is queued; texts arriving while a
    /// batch runs make the next one.
    /// </summary>
    public TimeSpan BatchWindow { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// ONNX Runtime intra-op threads of the encoder session; 0 = every core. A text batch takes that many cores from the
    /// silo's <see cref="Inference.ComputeGate"/>, so it never runs beside a sequence-model batch on the same cores.
    /// </summary>
    public int IntraOpThreads { get; set; }

    public int ResolveThreads(int cores) => IntraOpThreads > 0 ? Math.Min(IntraOpThreads, cores) : cores;
}
