namespace Recommender.Grains;

/// <summary>Serving settings read by the grains (bound from the "Recommender" configuration section).</summary>
public sealed class ServingOptions
{
    /// <summary>How many of a user's most recent events feed the model.</summary>
    public int HistoryWindow { get; set; } = 200;

    /// <summary>How many events a user grain keeps; older ones are dropped (the total count still includes them).</summary>
    public int HistoryRetention { get; set; } = 10_000;

    /// <summary>Temperature of the softmax that turns similarities into scores.</summary>
    public double SoftmaxTemperature { get; set; } = 0.1;

    /// <summary>How long a silo reuses its copy of the catalogue snapshot (active model, popularity list).</summary>
    public TimeSpan CatalogueCacheTtl { get; set; } = TimeSpan.FromSeconds(2);
}
