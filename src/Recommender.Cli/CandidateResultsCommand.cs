using System.CommandLine;
using System.Globalization;

namespace Recommender.Cli;

/// <summary>
/// recommender candidate-results: prints a candidate version's A/B test as the cluster counts it
/// (GET /models/{version}/candidate/results): each side's next events, hit rate and mean reciprocal rank, and the
/// candidate against the control with the difference's 95 % confidence interval and p-value.
/// </summary>
internal static class CandidateResultsCommand
{
    public static Command Create()
    {
        var version = new Option<string>("--version") { Description = "The candidate version (running, or the latest run of one that ran).", Required = true };
        var alpha = new Option<double>("--alpha") { Description = "The significance level the verdict line uses, above 0 and below 1.", DefaultValueFactory = _ => 0.05 };
        var api = ApiConnection.AddressOption();
        var apiKey = ApiConnection.KeyOption("A client or admin API key");
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the answer.", DefaultValueFactory = _ => 100 };
        var attempts = new Option<int>("--attempts") { Description = "Attempts the request, 1 to 100, while the cluster answers 429 or 503 or not at all.", DefaultValueFactory = _ => 5 };
        var command = new Command("candidate-results", "Print a candidate version's A/B test against the active version (GET /models/{version}/candidate/results).")
        {
            version, alpha, api, apiKey, timeout, attempts,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var name = parse.GetValue(version)!;
            var level = parse.GetValue(alpha);
            var (connection, refused) = ApiConnection.OpenChecked(parse, () =>
            {
                if (parse.GetValue(attempts) is < 1 or > 100) throw new ArgumentException($"--attempts {parse.GetValue(attempts)} must be between 1 and 100.");
                if (!(level is > 0 and < 1)) throw new ArgumentException($"--alpha {level.ToString(CultureInfo.InvariantCulture)} must be above 0 and below 1.");
                if (string.IsNullOrWhiteSpace(name) || name.Contains('/')) throw new ArgumentException($"--version '{name}' is not a version name.");
            }, parse.GetValue(api), parse.GetValue(apiKey), parse.GetValue(timeout));
            if (connection is null) return refused;
            using var http = connection;
            var endpoint = $"models/{Uri.EscapeDataString(name)}/candidate/results";
            try
            {
                using var response = await http.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, endpoint), parse.GetValue(attempts), retryLost: true, error,
                    HttpCompletionOption.ResponseContentRead, cancellation);
                var text = await response.Content.ReadAsStringAsync(cancellation);
                if (!response.IsSuccessStatusCode)
                {
                    await ApiProblem.ReportAsync(http, endpoint, response.StatusCode, text, error, "Reading the candidate's results");
                    return 1;
                }
                foreach (var line in Describe(http.ReadAnswer<Results>(endpoint, response.StatusCode, text), level)) await output.WriteLineAsync(line);
                return 0;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellation.IsCancellationRequested)
            {
                await error.WriteLineAsync($"error: {http.BaseAddress} did not answer ({(e is TaskCanceledException ? $"no answer within {http.Http.Timeout.TotalSeconds:0} s" : e.Message)}).");
                return 1;
            }
            catch (InvalidDataException e) when (!cancellation.IsCancellationRequested)
            {
                await error.WriteLineAsync($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>The lines printed for <paramref name="results"/>, the verdicts at <paramref name="alpha"/>.</summary>
    internal static IEnumerable<string> Describe(Results results, double alpha)
    {
        var c = CultureInfo.InvariantCulture;
        yield return string.Create(c, $"{results.Candidate} against {results.Control} since {results.Since.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z, ")
            + (results.Running ? string.Create(c, $"running for {results.Share:0.###} of the users") : "ended");
        foreach (var (side, arm, name) in new[] { ("candidate", results.CandidateArm, results.Candidate), ("control", results.ControlArm, results.Control) })
            yield return string.Create(c, $"{side} {name}: {arm.NextEvents:N0} next events, {arm.Hits:N0} in the list; hit rate {Rate(arm.HitRate)}, mean reciprocal rank {Rate(arm.MeanReciprocalRank)}");
        foreach (var (metric, comparison) in new[] { ("hit rate", results.HitRate), ("mean reciprocal rank", results.MeanReciprocalRank) })
        {
            if (comparison is null)
            {
                yield return $"{metric}: too few users on a side to compare yet.";
                continue;
            }
            var relative = comparison.RelativeDifference is { } r ? string.Create(c, $" ({r * 100:+0.0;-0.0;0.0} %)") : "";
            var verdict = comparison.PValue < alpha
                ? $"the candidate is {(comparison.Difference > 0 ? "higher" : "lower")}"
                : "no difference shown";
            yield return string.Create(c, $"{metric}: {comparison.Difference:+0.0000;-0.0000;0.0000}{relative}, 95 % interval [{comparison.Low:0.0000}, {comparison.High:0.0000}], p = {comparison.PValue:0.0000}: {verdict} at the {alpha:0.###} level.");
        }
    }

    private static string Rate(double? rate) => rate is { } r ? r.ToString("0.0000", CultureInfo.InvariantCulture) : "-";

    internal sealed record Arm(long NextEvents, long Hits, double? HitRate, double? MeanReciprocalRank);

    internal sealed record Comparison(double Candidate, double Control, double Difference, double? RelativeDifference, double Low, double High, double PValue);

    internal sealed record Results(string Candidate, string Control, DateTimeOffset Since, bool Running, double? Share, Arm CandidateArm, Arm ControlArm,
        Comparison? HitRate, Comparison? MeanReciprocalRank);
}
