using Recommender.Abstractions;

namespace Recommender.Grains.Inference;

/// <summary>
/// The inference pool: stateless workers on every silo, all sharing that silo's one ONNX session per model version
/// (<see cref="ModelRegistry"/>); concurrent requests are gathered into one encoder call by its batcher. Reentrant:
/// a worker waiting on the batcher takes the next request, so a batch can gather more histories than the silo has
/// workers (one per core); the encoder's compute is bounded by the silo's compute gate, not by the workers.
/// </summary>
[StatelessWorker, Reentrant]
public sealed class InferenceGrain(ModelRegistry models) : Grain, IInferenceGrain
{
    public async Task<Immutable<byte[]>> Encode(string modelVersion, Immutable<string[]> history)
    {
        var vector = await models.EncodeAsync(modelVersion, history.Value);
        return new Immutable<byte[]>(VectorBytes.FromFloats(vector));
    }
}
