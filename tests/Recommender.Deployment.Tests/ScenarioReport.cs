using System.Text.Json;
using Xunit.Abstractions;

namespace Recommender.Deployment.Tests;

/// <summary>The figures of one fault scenario: requests attempted, acknowledged, failed, events lost, recovery time.</summary>
public sealed record ScenarioReport(
    string Scenario,
    int Attempted,
    int Acknowledged,
    int Retryable,
    int MaybeWritten,
    int Failed,
    int WritesAttempted,
    int WritesAcknowledged,
    int Lost,
    int Duplicated,
    int OutOfOrder,
    int RefusedButWritten,
    int MaybeWrittenStored,
    double? RecoverySeconds,
    IReadOnlyList<string> FailureSamples)
{
    public static ScenarioReport From(string scenario, IReadOnlyCollection<RequestRecord> records, HistoryAudit audit, TimeSpan? faultAt)
    {
        var failures = records.Where(r => r.Outcome != Outcome.Acknowledged).ToList();
        // Recovery: from the fault to the end of the last request that did not succeed (0 when none failed).
        double? recovery = faultAt is { } at
            ? failures.Count == 0 ? 0 : Math.Max(0, (failures.Max(f => f.End) - at).TotalSeconds)
            : null;
        return new ScenarioReport(
            scenario,
            records.Count,
            records.Count(r => r.Outcome == Outcome.Acknowledged),
            records.Count(r => r.Outcome == Outcome.Retryable),
            records.Count(r => r.Outcome == Outcome.MaybeWritten),
            records.Count(r => r.Outcome == Outcome.Failed),
            records.Count(r => r.IsWrite),
            audit.Acknowledged,
            audit.Lost,
            audit.Duplicated,
            audit.OutOfOrder,
            audit.RefusedButWritten,
            audit.MaybeWrittenStored,
            recovery is null ? null : Math.Round(recovery.Value, 1),
            failures.Where(f => f.Outcome == Outcome.Failed).Select(f => f.Detail).Distinct().Take(5).ToList());
    }

    public override string ToString() =>
        $"{Scenario}: attempted {Attempted}, acknowledged {Acknowledged}, retryable 503 {Retryable}, failed {Failed}, " +
        $"writes {WritesAcknowledged}/{WritesAttempted} acknowledged, lost {Lost}, duplicated {Duplicated}, out of order {OutOfOrder}, refused but written {RefusedButWritten}, " +
        $"503 may have been written {MaybeWritten} (stored {MaybeWrittenStored}), " +
        $"recovery {(RecoverySeconds is { } s ? $"{s:0.0} s" : "n/a")}" +
        (FailureSamples.Count > 0 ? $"; non-retryable failures: {string.Join(" | ", FailureSamples)}" : "");

    /// <summary>Writes the report to the test output and appends it to artifacts/test-results/fault-scenarios.jsonl.</summary>
    public void Publish(ITestOutputHelper output)
    {
        output.WriteLine(ToString());
        var directory = Path.Combine(RepositoryPaths.Root, "artifacts", "test-results");
        Directory.CreateDirectory(directory);
        var line = JsonSerializer.Serialize(this);
        File.AppendAllText(Path.Combine(directory, "fault-scenarios.jsonl"), $"{DateTimeOffset.UtcNow:O} {line}\n");
        File.AppendAllText(Path.Combine(directory, "fault-scenarios.txt"), $"{DateTimeOffset.UtcNow:O} {this}\n");
    }
}
