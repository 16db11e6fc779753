using Recommender.Abstractions;

namespace Recommender.Grains.Inference;

/// <summary>
/// The inference pool: stateless workers on every silo, all sharing that silo's one ONNX session per model version
/// (<see cref="ModelRegistry"/>), whose Run is thread-safe.
/// </summary>
[StatelessWorker]
public sealed class InferenceGrain(ModelRegistry models) : Grain, IInferenceGrain
{
    public Task<Immutable<byte[]>> Encode(string modelVersion, Immutable<string[]> history)
    {
        var model = models.Get(modelVersion);
        var dense = model.ToDense(history.Value);
        var vector = model.Encoder.Encode([dense]);
        return Task.FromResult(new Immutable<byte[]>(VectorBytes.FromFloats(vector)));
    }
}
