using Orleans.Runtime;

namespace Recommender.Deployment.Tests;

/// <summary>A persistent counter: the smallest grain that exercises ADO.NET storage and placement.</summary>
[Alias("Recommender.Deployment.Tests.ICounterGrain")]
public interface ICounterGrain : IGrainWithStringKey
{
    [Alias("Add")]
    Task<int> Add(int amount);

    [Alias("Get")]
    Task<int> Get();

    /// <summary>The silo hosting this activation.</summary>
    [Alias("Silo")]
    Task<string> Silo();
}

[GenerateSerializer, Alias("Recommender.Deployment.Tests.CounterState")]
public sealed class CounterState
{
    [Id(0)]
    public int Total { get; set; }
}

public sealed class CounterGrain([PersistentState("counter", CounterGrain.Storage)] IPersistentState<CounterState> state)
    : Grain, ICounterGrain
{
    public const string Storage = "counters";

    public async Task<int> Add(int amount)
    {
        state.State.Total += amount;
        await state.WriteStateAsync();
        return state.State.Total;
    }

    public Task<int> Get() => Task.FromResult(state.State.Total);

    public Task<string> Silo() => Task.FromResult(RuntimeIdentity);
}
