using Recommender.Model.Onnx;

namespace Recommender.Grains.Inference;

/// <summary>How each silo batches encoder calls ("Recommender:Inference" section).</summary>
public sealed class InferenceOptions
{
    /// <summary>A batch closes when it holds this many histories...</summary>
    public int MaxBatch { get; set; } = 32;

    /// <summary>
    /// ...or this long after its first history arrived. Zero, the default: take what is queued. Histories that arrive
    /// while a batch runs wait for the next, so batches grow with the load without a lone request waiting for company.
    /// </summary>
    public TimeSpan BatchWindow { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// How often each silo looks for model versions it no longer needs: a version that is not the active one and has
    /// encoded nothing for the retire grace ("Recommender:RetireGrace") has its sessions disposed.
    /// </summary>
    public TimeSpan UnloadCheckInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>ONNX Runtime intra-op threads per session; 0 = half the cores (at least 1), leaving the rest to the silo.</summary>
    public int IntraOpThreads { get; set; }

    public OnnxThreading Threading =>
        new(IntraOpThreads > 0 ? IntraOpThreads : Math.Max(1, Environment.ProcessorCount / 2), AllowSpinning: false);
}
