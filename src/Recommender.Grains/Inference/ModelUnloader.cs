using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Recommender.Grains.Catalogue;

namespace Recommender.Grains.Inference;

/// <summary>
/// Frees what a silo holds for model versions that are no longer served: every check interval it reads the active
/// version (and any candidate) from its catalogue snapshot and unloads any other version that has encoded nothing for the retire grace,
/// so requests that read the old pointer just before an activation still finish on it. Each silo does this on its
/// own, so a silo that was unreachable during an activation catches up at its next check.
/// </summary>
public sealed class ModelUnloader(
    ModelRegistry models,
    CatalogueCache catalogue,
    IOptions<InferenceOptions> inference,
    IOptions<ServingOptions> serving,
    ILogger<ModelUnloader> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ModelUnloader), ServiceLifecycleStage.Active, Start, Stop);

    /// <summary>One check: unloads the idle versions other than the active one and the candidate, and returns them.</summary>
    public async Task<IReadOnlyList<string>> CheckAsync()
    {
        var snapshot = await catalogue.GetAsync();
        // Until a model is active nothing is being replaced.
        if (snapshot.Model is null) return [];
        string[] served = snapshot.Candidate is { } candidate ? [snapshot.Model.Version, candidate.Model.Version] : [snapshot.Model.Version];
        var unloaded = models.UnloadIdle(served, serving.Value.RetireGrace);
        foreach (var version in unloaded)
            logger.LogInformation("Model {Version} unloaded from this silo (active: {Active})", version, snapshot.Model.Version);
        return unloaded;
    }

    private Task Start(CancellationToken _)
    {
        _loop = Task.Run(RunAsync);
        return Task.CompletedTask;
    }

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(inference.Value.UnloadCheckInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                try
                {
                    await CheckAsync();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Checking for model versions to unload failed; trying again at the next check");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task Stop(CancellationToken cancellation)
    {
        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellation).ContinueWith(_ => { }, TaskScheduler.Default);
    }
}
