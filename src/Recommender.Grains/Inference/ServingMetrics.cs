using System.Diagnostics;
using System.Diagnostics.Metrics;
using Recommender.Abstractions;

namespace Recommender.Grains.Inference;

/// <summary>
/// The serving instruments (meter "Recommender.Serving"): encoder batch sizes and times, model unloads, the event
/// journal and users' next events against the lists served to them, exported by OpenTelemetry.
/// </summary>
public sealed class ServingMetrics
{
    public const string MeterName = "Recommender.Serving";

    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _batchDuration;
    private readonly Histogram<double> _encodeLatency;
    private readonly UpDownCounter<int> _sessions;
    private readonly Counter<long> _unloaded;
    private readonly UpDownCounter<int> _journalPending;
    private readonly Counter<long> _journalRetried;
    private readonly Counter<long> _nextItems;
    private readonly Counter<long> _dismissedItems;
    private readonly Counter<long> _purchasedItems;
    private readonly Counter<double> _purchasedValue;
    private readonly Histogram<int> _nextItemRank;
    private readonly Counter<long> _experimentUsers;
    private readonly Counter<double> _expectedCandidateUsers;
    private readonly Counter<double> _splitVariance;

    public ServingMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _batchSize = meter.CreateHistogram<int>("recommender.inference.batch.size", "{history}", "Histories encoded by one ONNX Runtime call.");
        _batchDuration = meter.CreateHistogram<double>("recommender.inference.batch.duration", "ms", "Time of one ONNX Runtime call over a batch.");
        _encodeLatency = meter.CreateHistogram<double>("recommender.inference.encode.duration", "ms", "Time from a request joining the queue to its vector being ready (queueing + batch).");
        _sessions = meter.CreateUpDownCounter<int>("recommender.inference.sessions", "{session}", "Open ONNX Runtime encoder sessions on this silo, by model version.");
        _unloaded = meter.CreateCounter<long>("recommender.inference.unloads", "{version}", "Model versions unloaded from this silo after they stopped being active.");
        _journalPending = meter.CreateUpDownCounter<int>("recommender.events.journal.pending", "{batch}", "Multi-user event batches held by this silo's journal partitions with users still to be written.");
        _journalRetried = meter.CreateCounter<long>("recommender.events.journal.retried", "{event}", "Events the event journal's retries wrote into histories (new ones, not repeats).");
        _nextItems = meter.CreateCounter<long>("recommender.online.next_items", "{event}",
            "Users' next events after they were served recommendations (within Recommender:NextItemWindow), and visitors' next items from their sessions (with a visitorId), by the model version and source of the list (and the scenario it was read under, when it was).");
        _dismissedItems = meter.CreateCounter<long>("recommender.online.dismissed_items", "{item}",
            "Items of a list served to a user that the user then dismissed (within Recommender:NextItemWindow; each item once a list, against the newest list that showed it), by the model version and source of the list (and the scenario it was read under, when it was).");
        _purchasedItems = meter.CreateCounter<long>("recommender.online.purchased_items", "{item}",
            "Items of a list served to a user that the user then bought (within Recommender:NextItemWindow; each item once a list, against the newest list that showed it), by the model version and source of the list (and the scenario it was read under, when it was).");
        _purchasedValue = meter.CreateCounter<double>("recommender.online.purchased_value", "{amount}",
            "The amount paid for the items counted in recommender.online.purchased_items (their purchase events' values, in the shop's currency; a purchase without one adds 0), by the model version and source of the list (and the scenario it was read under, when it was).");
        // Bucket bounds at the usual cut-offs, so that HR@K is one bucket over the counter above.
        _nextItemRank = meter.CreateHistogram("recommender.online.next_item.rank", "{rank}",
            "The rank of a user's next item in the list served to them, when the list held it, by the model version and source of the list (and the scenario it was read under, when it was).",
            tags: null, advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 3, 5, 10, 20, 50, 100, 200, 500, 1000] });
        // The split check of an A/B test as counters, so that an alert can watch it between looks at the results.
        _experimentUsers = meter.CreateCounter<long>("recommender.online.experiment.users", "{user}",
            "Users counted in a candidate's A/B test, each once a run when its first list reached them, by candidate version and side (candidate or control).");
        _expectedCandidateUsers = meter.CreateCounter<double>("recommender.online.experiment.expected_candidate_users", "{user}",
            "Over the users counted in recommender.online.experiment.users, the sum of the candidate's share when each was counted: the candidate's users a split as drawn gives, by candidate version.");
        _splitVariance = meter.CreateCounter<double>("recommender.online.experiment.split_variance", "{user}",
            "Over the same users, the sum of s (1 - s), s the candidate's share when each was counted: the variance of the candidate's users under a split as drawn, by candidate version.");
    }

    /// <summary>A user counted in <paramref name="arm"/>'s run (its share known), on the side the arm says.</summary>
    public void ExperimentUser(ExperimentArm arm)
    {
        var candidate = new KeyValuePair<string, object?>("candidate", arm.Candidate);
        _experimentUsers.Add(1, candidate, new KeyValuePair<string, object?>("side", arm.OnCandidate ? "candidate" : "control"));
        if (arm.Share is not { } share) return;
        _expectedCandidateUsers.Add(share, candidate);
        _splitVariance.Add(share * (1 - share), candidate);
    }

    public void Batch(string version, int size, double milliseconds)
    {
        var tag = new KeyValuePair<string, object?>("model", version);
        _batchSize.Record(size, tag);
        _batchDuration.Record(milliseconds, tag);
    }

    public void Encoded(double milliseconds) => _encodeLatency.Record(milliseconds);

    public void SessionOpened(string version) => _sessions.Add(1, new KeyValuePair<string, object?>("model", version));

    public void SessionClosed(string version) => _sessions.Add(-1, new KeyValuePair<string, object?>("model", version));

    public void JournalPending(int change) => _journalPending.Add(change);

    public void JournalRetried(int events) => _journalRetried.Add(events);

    /// <summary>Counts a user's next event against the list served before it; its rank when the list held it.</summary>
    public void NextItem(string version, RankingSource source, int? rank, string? scenario = null)
    {
        var tags = ListTags(version, source, scenario);
        _nextItems.Add(1, tags);
        if (rank is { } r) _nextItemRank.Record(r, tags);
    }

    /// <summary>Counts an item of the list served to a user that the user dismissed.</summary>
    public void DismissedItem(string version, RankingSource source, string? scenario = null) => _dismissedItems.Add(1, ListTags(version, source, scenario));

    /// <summary>Counts an item of the list served to a user that the user bought, and the amount paid for it.</summary>
    public void PurchasedItem(string version, RankingSource source, double paid, string? scenario = null)
    {
        var tags = ListTags(version, source, scenario);
        _purchasedItems.Add(1, tags);
        _purchasedValue.Add(paid, tags);
    }

    /// <summary>
    /// The model version and source of a served list, as the online instruments tag it, and the scenario it was read
    /// under when there was one (at most <see cref="Limits.MaxScenarios"/> names, so the series stay few).
    /// </summary>
    private static TagList ListTags(string version, RankingSource source, string? scenario)
    {
        var tags = new TagList { { "model", version }, { "source", source.ToString().ToLowerInvariant() } };
        if (scenario is not null) tags.Add("scenario", scenario);
        return tags;
    }

    public void Unloaded(string version) => _unloaded.Add(1, new KeyValuePair<string, object?>("model", version));
}
