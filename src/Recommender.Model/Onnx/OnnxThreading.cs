namespace Recommender.Model.Onnx;

/// <summary>
/// ONNX Runtime threading for one encoder session. Serving runs many small requests concurrently, so the
/// default is one intra-op thread without spinning: idle threads then cost no CPU and requests parallelise
/// across calls rather than inside one.
/// </summary>
public sealed record OnnxThreading(int IntraOpThreads = 1, bool AllowSpinning = false);
