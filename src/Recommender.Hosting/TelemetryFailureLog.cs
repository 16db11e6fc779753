using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Recommender.Hosting;

/// <summary>
/// Puts the OpenTelemetry SDK's own warnings and errors in the node's log, above all an export the collector never
/// received or refused. The SDK reports them only on its EventSources, which an operator does not watch, so a collector
/// that is down would go unnoticed until someone missed its data. Each kind of report (its EventSource, event and
/// subject) is logged at most once per interval, with the number of repeats since the last line: a collector that
/// stays down costs a line per signal and interval, not one per export attempt.
/// </summary>
public sealed class TelemetryFailureLog : IHostedService, IDisposable
{
    public const string IntervalKey = "Recommender:TelemetryFailureLogInterval";
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMinutes(1);

    // The SDK, its exporters and its instrumentation libraries all name their EventSources so.
    private const string SourcePrefix = "OpenTelemetry-";

    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly TimeSpan interval;
    private readonly Dictionary<(string Source, int EventId, string? Subject), Kind> kinds = [];
    private SourceListener? listener;
    private ITimer? flushTimer;

    // A line logged here may itself be exported, and its export fail: the report that follows is not forwarded from
    // inside the forwarding.
    [ThreadStatic] private static bool forwarding;

    public TelemetryFailureLog(ILogger<TelemetryFailureLog> logger, TimeProvider time, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        (this.logger, this.time, this.interval) = (logger, time, interval);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        listener ??= new SourceListener(Forward);
        flushTimer ??= time.CreateTimer(_ => Flush(), null, interval, interval);
        return Task.CompletedTask;
    }

    // The exporters' last flush happens while the host stops, after this; their failures are still worth a line.
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        flushTimer?.Dispose();
        listener?.Dispose();
    }

    /// <summary>
    /// Logs one report of the SDK, or counts it when its kind was logged less than an interval ago. A kind is the
    /// source's event about one subject, its first value (the exporters name the URL an export went to, so each signal
    /// a collector fails to take gets its own line).
    /// </summary>
    internal void Report(string source, int eventId, string eventName, string? subject, EventLevel level, string text)
    {
        // The SDK's notice that an instrument of a meter it was not asked to export is left out (the exporters' own
        // HttpClient has some) says itself that it can be ignored.
        if (level > EventLevel.Warning || eventName == "MetricInstrumentIgnored") return;
        var now = time.GetUtcNow();
        int repeats;
        DateTimeOffset? since;
        lock (kinds)
        {
            if (kinds.TryGetValue((source, eventId, subject), out var kind) && now - kind.LastLogged < interval)
            {
                kind.Repeats++;
                kind.LastText = text;
                return;
            }
            repeats = kind?.Repeats ?? 0;
            since = kind?.LastLogged;
            kinds[(source, eventId, subject)] = new Kind(eventName) { LastLogged = now, LastText = text };
        }
        Log(source, eventName, text, repeats, since);
    }

    /// <summary>
    /// Logs the repeats of each kind last logged an interval or more ago, so the count reaches the log even when the
    /// failures have stopped (a collector back up): a kind's last line then says how many followed, and no line follows it.
    /// </summary>
    internal void Flush()
    {
        var now = time.GetUtcNow();
        var due = new List<(string Source, string EventName, string Text, int Repeats, DateTimeOffset Since)>();
        lock (kinds)
        {
            foreach (var ((source, _, _), kind) in kinds)
            {
                if (kind.Repeats == 0 || now - kind.LastLogged < interval) continue;
                due.Add((source, kind.EventName, kind.LastText, kind.Repeats, kind.LastLogged));
                kind.Repeats = 0;
                kind.LastLogged = now;
            }
        }
        foreach (var (source, eventName, text, repeats, since) in due)
            Log(source, eventName, text, repeats, since);
    }

    private void Log(string source, string eventName, string text, int repeats, DateTimeOffset? since)
    {
        if (repeats == 0)
            logger.LogWarning("OpenTelemetry ({Source}, {EventName}): {Report}", source, eventName, text);
        else
            logger.LogWarning("OpenTelemetry ({Source}, {EventName}): {Report} ({Repeats} more like it since {Since:O})",
                source, eventName, text, repeats, since);
    }

    private void Forward(EventWrittenEventArgs report)
    {
        if (forwarding) return;
        forwarding = true;
        try
        {
            Report(report.EventSource.Name, report.EventId, report.EventName ?? report.EventId.ToString(CultureInfo.InvariantCulture),
                report.Payload is [string subject, ..] ? subject : null, report.Level, Text(report));
        }
        finally
        {
            forwarding = false;
        }
    }

    /// <summary>
    /// The event's message with its payload filled in, as the SDK's own diagnostics file writes it, up to its first line
    /// break: an exception's message is kept and its stack trace, the same on every repeat, left out.
    /// </summary>
    internal static string Text(EventWrittenEventArgs report)
    {
        var text = FullText(report);
        var lineBreak = text.IndexOfAny(['\r', '\n']);
        return lineBreak < 0 ? text : text[..lineBreak];
    }

    private static string FullText(EventWrittenEventArgs report)
    {
        var payload = report.Payload?.ToArray() ?? [];
        if (!string.IsNullOrEmpty(report.Message))
        {
            try
            {
                return string.Format(CultureInfo.InvariantCulture, report.Message, payload);
            }
            catch (FormatException)
            {
                // A message whose placeholders do not match its payload: both are given below.
            }
        }
        var values = string.Join(", ", payload.Select(value => Convert.ToString(value, CultureInfo.InvariantCulture)));
        return string.IsNullOrEmpty(report.Message) ? values : $"{report.Message} [{values}]";
    }

    private sealed class Kind(string eventName)
    {
        public string EventName { get; } = eventName;

        public DateTimeOffset LastLogged { get; set; }

        public int Repeats { get; set; }

        /// <summary>The latest report's text, which a line about its repeats quotes.</summary>
        public string LastText { get; set; } = "";
    }

    /// <summary>Listens to every OpenTelemetry EventSource, those created before it and after, at Warning and above.</summary>
    private sealed class SourceListener : EventListener
    {
        // EventListener's constructor announces the existing sources before this class's fields are set: the callback
        // is read only when an event arrives, and events may arrive from then on.
        private readonly Action<EventWrittenEventArgs>? forward;

        public SourceListener(Action<EventWrittenEventArgs> forward) => this.forward = forward;

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name.StartsWith(SourcePrefix, StringComparison.Ordinal))
                EnableEvents(source, EventLevel.Warning);
        }

        // The runtime hands EventCounters' payloads to every listener, whatever it enabled.
        protected override void OnEventWritten(EventWrittenEventArgs report)
        {
            if (report.EventSource.Name.StartsWith(SourcePrefix, StringComparison.Ordinal))
                forward?.Invoke(report);
        }
    }
}
