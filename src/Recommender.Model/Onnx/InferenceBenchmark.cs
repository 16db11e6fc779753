using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using Recommender.Model.Sasrec;

namespace Recommender.Model.Onnx;

/// <summary>Timing of the serving path (<see cref="OnnxEncoder"/>) set against the model's arithmetic and this CPU's matmul rate.</summary>
public static class InferenceBenchmark
{
    public sealed record Latency(double MedianMs, double P90Ms, double MeanMs, int Runs);

    /// <summary>
    /// Multiply-adds ×2 of the matrix products of one SASRec forward pass over a full window (L positions, every
    /// block on every position); element-wise work (LayerNorm, softmax, activations) is left out as it is small.
    /// </summary>
    public static double FullForwardFlops(SasRecConfig c)
    {
        double l = c.MaxLength, d = c.Dimension, f = c.FeedForwardDimension;
        var block = 2 * l * d * d * 4 + 2 * l * l * d * 2 + 2 * l * d * f * 2;
        return block * c.Blocks;
    }

    /// <summary>
    /// The same count for the exported graph, whose last block runs queries, output projection and feed-forward
    /// for the last position only (keys and values still cover the window).
    /// </summary>
    public static double ExportedGraphFlops(SasRecConfig c)
    {
        double l = c.MaxLength, d = c.Dimension, f = c.FeedForwardDimension;
        var fullBlock = 2 * l * d * d * 4 + 2 * l * l * d * 2 + 2 * l * d * f * 2;
        var lastBlock = 2 * l * d * d * 2 + 2 * d * d * 2 + 2 * l * d * 2 + 2 * d * f * 2;
        return fullBlock * (c.Blocks - 1) + lastBlock;
    }

    /// <summary>Sustained float32 GFLOP/s of ONNX Runtime's MatMul on [n, n] × [n, n] with the given thread count.</summary>
    public static double MatMulGflops(int n = 1024, int threads = 1, int runs = 10)
    {
        var g = new OnnxGraphBuilder("matmul");
        g.AddInput("a", TensorProto.Types.DataType.Float, n, n);
        var random = new Random(1);
        g.AddInitializer("b", Enumerable.Range(0, n * n).Select(_ => (float)random.NextDouble()).ToArray(), n, n);
        g.Node("MatMul", ["a", "b"], "c");
        g.AddOutput("c", TensorProto.Types.DataType.Float, n, n);
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        using var session = new InferenceSession(g.ToBytes(), options);
        var a = Enumerable.Range(0, n * n).Select(_ => (float)random.NextDouble()).ToArray();
        var c = new float[n * n];
        using var input = OrtValue.CreateTensorValueFromMemory(a, [n, n]);
        using var output = OrtValue.CreateTensorValueFromMemory(c, [n, n]);
        using var runOptions = new RunOptions();
        session.Run(runOptions, ["a"], [input], ["c"], [output]);
        var best = double.MaxValue;
        for (var r = 0; r < runs; r++)
        {
            var watch = Stopwatch.StartNew();
            session.Run(runOptions, ["a"], [input], ["c"], [output]);
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }

    /// <summary>Wall time of <paramref name="encoder"/> on <paramref name="batch"/> copies of a history, after warm-up.</summary>
    public static Latency Measure(OnnxEncoder encoder, int[] history, int batch, int runs, int warmup = 10)
    {
        var histories = Enumerable.Repeat(history, batch).ToArray();
        for (var i = 0; i < warmup; i++) encoder.Encode(histories);
        var times = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            encoder.Encode(histories);
            times[i] = watch.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return new Latency(times[runs / 2], times[(int)(runs * 0.9)], times.Average(), runs);
    }
}
