namespace Recommender.Grains;

/// <summary>Serving settings read by the grains (bound from the "Recommender" configuration section).</summary>
public sealed class ServingOptions
{
    /// <summary>
    /// How far back, in events, the model may read a user's history; unset, as far as retained. Either way the model
    /// reads at most its own maximum length of the most recent items it knows.
    /// </summary>
    public int? HistoryWindow { get; set; }

    /// <summary>How many events a user grain keeps; older ones are dropped (the total count still includes them).</summary>
    public int HistoryRetention { get; set; } = 10_000;

    /// <summary>Temperature of the softmax that turns cosine similarities (in [-1, 1]) into scores.</summary>
    public double SoftmaxTemperature { get; set; } = 0.1;

    /// <summary>
    /// Temperature of the softmax over dot-product scores. A SASRec package's dot product is the model's next-item
    /// logit, so at 1 each score is the model's own probability of that item among the ones returned.
    /// </summary>
    public double DotSoftmaxTemperature { get; set; } = 1.0;

    /// <summary>The softmax temperature for a model version's similarity kind.</summary>
    public double SoftmaxTemperatureFor(string similarity) =>
        similarity == Recommender.Model.Packaging.SimilarityKinds.Cosine ? SoftmaxTemperature : DotSoftmaxTemperature;

    /// <summary>How long a silo reuses its copy of the catalogue snapshot (active model, popularity list).</summary>
    public TimeSpan CatalogueCacheTtl { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Shards per activated version; 0 = twice the silo's cores, from 2 to 64.</summary>
    public int Shards { get; set; }

    /// <summary>How long the shards of a replaced version keep serving requests that read the old pointer before they deactivate.</summary>
    public TimeSpan RetireGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often each silo asks the event journal to retry the users of a multi-user batch whose write failed (and
    /// to take over the batches of a lost silo).
    /// </summary>
    public TimeSpan EventJournalRetryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the journal waits for the users of a stored batch to take their events before it answers, leaving the
    /// rest to its retries. Below the front end's call attempt timeout, so that a batch is answered before the front end
    /// gives up on the attempt.
    /// </summary>
    public TimeSpan EventJournalHandOutTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long after a user is served recommendations their next event is compared with the list (the metrics
    /// recommender.online.next_items and recommender.online.next_item.rank); zero turns the comparison off. The list is
    /// kept in the user's grain, which Orleans deactivates after 15 idle minutes, so a longer window counts only users
    /// whose grains stay active.
    /// </summary>
    public TimeSpan NextItemWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// The relative change in a rate (0.1: 10 % of the control's) that an A/B test's always-valid p-value is tuned to
    /// find soonest: the mixture of its sequential test weighs true differences about this large most. Any value keeps
    /// the p-value valid; one far from the change a candidate makes costs events.
    /// </summary>
    public double SequentialTestLift { get; set; } = 0.1;

    /// <summary>
    /// How many session interest vectors each silo keeps (least recently used first out; 0 keeps none), by model version
    /// and the items the encoder reads: a session sent again with the same items (a page with several lists, a reload)
    /// is not encoded again.
    /// </summary>
    public int SessionCacheSize { get; set; } = 10_000;

    public PopularityOptions Popularity { get; set; } = new();

    public int ResolvedShards => ResolveShards(Shards);

    public static int ResolveShards(int configured) => configured > 0 ? configured : Math.Clamp(2 * Environment.ProcessorCount, 2, 64);
}

/// <summary>The live popularity ranking served to users without history ("Recommender:Popularity").</summary>
public sealed class PopularityOptions
{
    /// <summary>An event's weight halves every half-life (measured from its timestamp).</summary>
    public TimeSpan HalfLife { get; set; } = TimeSpan.FromHours(6);

    /// <summary>How often each silo flushes its accumulated counts to the partition grains.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often each silo rebuilds its popular list from the partitions.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Length of the live list.</summary>
    public int ListSize { get; set; } = 200;

    /// <summary>
    /// Recent (decayed) events an item needs before the live list ranks it above the seeded all-time list; below
    /// that it competes with the seeded items on its count, so a single stray event does not make it everyone's first.
    /// </summary>
    public long MinimumLiveCount { get; set; } = 3;
}
