using Microsoft.ML.OnnxRuntime;

namespace Recommender.Model.Onnx;

/// <summary>
/// ONNX Runtime threading for one session. Serving runs many small requests concurrently, so the default is
/// one intra-op thread without spinning: idle threads then cost no CPU and requests parallelise across calls
/// rather than inside one.
/// </summary>
public sealed record OnnxThreading(int IntraOpThreads = 1, bool AllowSpinning = false)
{
    /// <summary>Session options every session of the project uses: these threads, sequential, all graph optimisations.</summary>
    public SessionOptions CreateSessionOptions()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(IntraOpThreads);
        var options = new SessionOptions
        {
            IntraOpNumThreads = IntraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", AllowSpinning ? "1" : "0");
        return options;
    }
}
