using System.Diagnostics.Metrics;

namespace Recommender.Grains.Inference;

/// <summary>The serving instruments (meter "Recommender.Serving"): encoder batch sizes and times, model unloads and the event journal, exported by OpenTelemetry.</summary>
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

    public void Unloaded(string version) => _unloaded.Add(1, new KeyValuePair<string, object?>("model", version));
}
