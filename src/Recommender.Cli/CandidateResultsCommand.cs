using System.CommandLine;
using System.Globalization;

namespace Recommender.Cli;

/// <summary>
/// recommender candidate-results: prints a candidate version's A/B test as the cluster counts it
/// (GET /models/{version}/candidate/results): each side's next events, hit rate and mean reciprocal rank, and the
/// candidate against the control with the difference's 95 % confidence interval and p-value, and the same for the
/// listed items users dismissed and bought, and the amount paid for them, per list. With --decide it ends a running test that has reached its planned length:
/// the candidate is activated when its hit rate is higher at the significance level and its dismissals per list are
/// not, and stopped otherwise; with --sequential as well it ends the test as soon as the always-valid p-values show a
/// difference, which may be looked at as often as wanted. A test whose users are not split as drawn is not decided.
/// </summary>
internal static class CandidateResultsCommand
{
    /// <summary>The exit code of --decide when the test has not reached its length: nothing was changed.</summary>
    public const int TestContinues = 3;

    /// <summary>The exit code of --decide when the users are not split as drawn: nothing was changed, and nothing can be decided.</summary>
    public const int SplitMismatch = 4;

    private const string Reading = "Reading the candidate's results";

    /// <summary>The rate --decide judges the candidate by (its dismissals per list are a bar either way).</summary>
    internal enum Goal
    {
        /// <summary>Users' next events found in the list served before them: the model's own aim.</summary>
        HitRate,

        /// <summary>Listed items bought within the next-item window, per list: a shop's aim.</summary>
        Purchases,

        /// <summary>The amount paid for those items (the purchase events' values), per list: a shop's aim when its items' prices differ.</summary>
        Revenue,
    }

    /// <summary>Each goal's --goal value, how messages name its rate, and that rate's comparison in the results.</summary>
    private static readonly Dictionary<Goal, (string Option, string Name, Func<Results, Comparison?> Rate)> Goals = new()
    {
        [Goal.HitRate] = ("hit-rate", "hit rate", r => r.HitRate),
        [Goal.Purchases] = ("purchases", "purchases per list", r => r.PurchasesPerList),
        [Goal.Revenue] = ("revenue", "revenue per list", r => r.RevenuePerList),
    };

    /// <summary>The comparison of <paramref name="goal"/>'s rate in <paramref name="results"/>.</summary>
    internal static Comparison? Judged(Results results, Goal goal) => Goals[goal].Rate(results);

    /// <summary>How messages name <paramref name="goal"/>'s rate.</summary>
    internal static string NameOf(Goal goal) => Goals[goal].Name;

    /// <summary>The goal a --goal value names (the hit rate for any other).</summary>
    internal static Goal GoalNamed(string? name) => Goals.FirstOrDefault(g => g.Value.Option == name, new(Goal.HitRate, default)).Key;

    /// <summary>What --decide does with a run.</summary>
    internal enum Decision
    {
        /// <summary>The run has ended already (stopped, promoted or replaced).</summary>
        Ended,

        /// <summary>A side has fewer next events than the test's planned length (sequentially: no difference shown yet).</summary>
        Continue,

        /// <summary>The candidate's hit rate is higher at the significance level: it serves everyone.</summary>
        Promote,

        /// <summary>It is not: everyone goes back to the active version.</summary>
        Stop,

        /// <summary>The users are not split between the sides as drawn: no comparison can be trusted, nothing is decided.</summary>
        Mismatch,
    }

    public static Command Create()
    {
        var version = new Option<string?>("--version") { Description = "The candidate version: the running one by default, or one that ran (its latest run)." };
        var alpha = new Option<double>("--alpha") { Description = "The significance level of the verdicts and of --decide, above 0 and below 1.", DefaultValueFactory = _ => 0.05 };
        var decide = new Option<bool>("--decide")
        {
            Description = "End the running test once each side has --min-events next events: activate the candidate when its hit rate (or --goal's rate) is higher at --alpha " +
                "and its dismissals per list are not, stop it " +
                $"otherwise. Before then nothing changes and the exit code is {TestContinues}. Decide the length before the test starts and let this be the one look: " +
                "stopping at the first look that shows a difference finds one far more often than --alpha. Users not split between the sides as drawn (a sample " +
                $"ratio p-value below 0.001) decide nothing: exit code {SplitMismatch}.",
        };
        var minEvents = new Option<long>("--min-events") { Description = "With --decide: the test's planned length, in next events on each side.", DefaultValueFactory = _ => 1000 };
        var sequential = new Option<bool>("--sequential")
        {
            Description = "With --decide: judge by the always-valid p-values instead, which hold however often the test is looked at: activate the candidate as soon " +
                "as its hit rate (or --goal's rate) is higher at --alpha and its dismissals per list are not, stop it as soon as that rate or its dismissals per list show it worse, " +
                $"and otherwise let it run (exit code {TestContinues}) until --max-events.",
        };
        var maxEvents = new Option<long?>("--max-events")
        {
            Description = "With --decide --sequential: the test's longest length, in next events on each side; a test that has shown no difference by then is " +
                "stopped (no difference worth the change). Without it the test runs until it shows one.",
        };
        var goal = new Option<string>("--goal")
        {
            Description = "The rate --decide judges the candidate by: hit-rate (users' next events found in the list served before them), purchases " +
                "(listed items bought within the next-item window, per list) or revenue (the amount paid for them, the purchase events' values, per list). " +
                "Its dismissals per list are a bar either way; the length stays in next events.",
            DefaultValueFactory = _ => "hit-rate",
        };
        goal.AcceptOnlyFromAmong([.. Goals.Values.Select(g => g.Option)]);
        var planLift = new Option<double?>("--plan-lift")
        {
            Description = "A relative change in the hit rate (or --goal's rate) worth finding (0.05: 5 %): prints how many next events each side needs for it to be found at 0.05 " +
                "with 80 % power, from the spread counted so far: a --min-events for --decide.",
        };
        var api = ApiConnection.AddressOption();
        var apiKey = ApiConnection.KeyOption("A client key, or with --decide an admin key,");
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for each answer.", DefaultValueFactory = _ => 100 };
        var attempts = new Option<int>("--attempts") { Description = "Attempts a request, 1 to 100, while the cluster answers 429 or 503 or not at all.", DefaultValueFactory = _ => 5 };
        var command = new Command("candidate-results", "Print a candidate version's A/B test against the active version (GET /models/{version}/candidate/results); with --decide, end it once it has run its length.")
        {
            version, alpha, decide, minEvents, sequential, maxEvents, goal, planLift, api, apiKey, timeout, attempts,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var name = parse.GetValue(version);
            var level = parse.GetValue(alpha);
            var deciding = parse.GetValue(decide);
            var length = parse.GetValue(minEvents);
            var judgedSequentially = parse.GetValue(sequential);
            var most = parse.GetValue(maxEvents);
            var aim = GoalNamed(parse.GetValue(goal));
            var (connection, refused) = ApiConnection.OpenChecked(parse, () =>
            {
                if (parse.GetValue(attempts) is < 1 or > 100) throw new ArgumentException($"--attempts {parse.GetValue(attempts)} must be between 1 and 100.");
                if (!(level is > 0 and < 1)) throw new ArgumentException($"--alpha {level.ToString(CultureInfo.InvariantCulture)} must be above 0 and below 1.");
                if (name is not null && (string.IsNullOrWhiteSpace(name) || name.Contains('/'))) throw new ArgumentException($"--version '{name}' is not a version name.");
                if (length < 1) throw new ArgumentException($"--min-events {length} must be 1 or more.");
                if (parse.GetResult(minEvents) is { Implicit: false } && !deciding) throw new ArgumentException("--min-events is the length --decide waits for: give --decide too.");
                if (judgedSequentially && !deciding) throw new ArgumentException("--sequential is a way of deciding: give --decide too.");
                if (parse.GetResult(minEvents) is { Implicit: false } && judgedSequentially)
                    throw new ArgumentException("--min-events is the length of a test judged once; a sequential test needs none (--max-events bounds it).");
                if (most is not null && !judgedSequentially) throw new ArgumentException("--max-events bounds a sequential test: give --decide --sequential too.");
                if (most is < 1) throw new ArgumentException($"--max-events {most} must be 1 or more.");
                if (parse.GetResult(goal) is { Implicit: false } && !deciding && parse.GetValue(planLift) is null)
                    throw new ArgumentException("--goal is the rate --decide judges by (and --plan-lift plans for): give --decide or --plan-lift too.");
                if (parse.GetValue(planLift) is { } lift && !(lift is > 0 and <= 10))
                    throw new ArgumentException($"--plan-lift {lift.ToString(CultureInfo.InvariantCulture)} must be a relative change above 0 and at most 10, such as 0.05 for 5 %.");
            }, parse.GetValue(api), parse.GetValue(apiKey), parse.GetValue(timeout));
            if (connection is null) return refused;
            using var http = connection;
            var tries = parse.GetValue(attempts);
            try
            {
                name ??= await RunningCandidate(http, tries, error, cancellation);
                if (name is null)
                {
                    if (!deciding) await error.WriteLineAsync("error: no candidate runs now; give --version for the latest run of a version that ran as one.");
                    else await output.WriteLineAsync("no candidate runs: nothing to decide.");
                    return deciding ? 0 : 1;
                }
                var endpoint = $"models/{Uri.EscapeDataString(name)}/candidate/results";
                var results = await http.ReadAsync<Results>(endpoint, tries, error, Reading, cancellation);
                if (results is null) return 1;
                foreach (var line in Describe(results, level)) await output.WriteLineAsync(line);
                if (parse.GetValue(planLift) is { } wanted) await output.WriteLineAsync(DescribePlan(results, wanted, aim));
                if (!deciding) return 0;
                var decision = judgedSequentially ? DecideSequentially(results, most, level, aim) : Decide(results, length, level, aim);
                switch (decision)
                {
                    case Decision.Ended:
                        await output.WriteLineAsync("the run has ended: nothing to decide.");
                        return 0;
                    case Decision.Mismatch:
                        await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                            $"error: the users are not split as drawn (sample ratio p = {results.SampleRatio!.PValue:0.######}): nothing was decided. Something other than the model differs between the sides; find it before trusting this test."));
                        return SplitMismatch;
                    case Decision.Continue:
                        await output.WriteLineAsync(judgedSequentially
                            ? string.Create(CultureInfo.InvariantCulture,
                                $"the test continues: no difference shown by the always-valid p-values at the {level:0.###} level yet ({results.CandidateArm.NextEvents:N0} and {results.ControlArm.NextEvents:N0} next events") +
                              (most is { } bound ? string.Create(CultureInfo.InvariantCulture, $" of at most {bound:N0} a side).") : ").")
                            : string.Create(CultureInfo.InvariantCulture,
                                $"the test continues: {results.CandidateArm.NextEvents:N0} and {results.ControlArm.NextEvents:N0} next events of the {length:N0} each side needs."));
                        return TestContinues;
                    case Decision.Promote:
                        await output.WriteLineAsync($"promoting {name}: its {NameOf(aim)} is higher at the {level.ToString(CultureInfo.InvariantCulture)} level{By(judgedSequentially)}, its dismissals per list are not.");
                        return await PublishCommand.Activate(http, name, tries, output, error, cancellation, "Deciding a test");
                    default:
                        var why = judgedSequentially ? WhyStopped(results, level, most, aim)
                            : (HigherAt(Judged(results, aim), level) ? $"its {NameOf(aim)} is higher, but so are its dismissals per list," : $"its {NameOf(aim)} is not higher")
                              + $" at the {level.ToString(CultureInfo.InvariantCulture)} level";
                        await output.WriteLineAsync($"stopping {name}: {why}; {results.Control} serves every user.");
                        return await Stop(http, name, tries, error, cancellation);
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellation.IsCancellationRequested)
            {
                await error.WriteLineAsync($"error: {http.NoAnswer(e)}.");
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

    /// <summary>
    /// What --decide does: nothing for a run that has ended or has not reached <paramref name="minEvents"/> next
    /// events on each side; then promote the candidate if its <paramref name="goal"/>'s rate (the hit rate by default)
    /// is higher at <paramref name="alpha"/> and its dismissals per list are not (a list users take from more but push
    /// away more often is no win), else stop it.
    /// </summary>
    internal static Decision Decide(Results results, long minEvents, double alpha, Goal goal = Goal.HitRate)
    {
        if (!results.Running) return Decision.Ended;
        if (Mismatched(results)) return Decision.Mismatch;
        if (Math.Min(results.CandidateArm.NextEvents, results.ControlArm.NextEvents) < minEvents) return Decision.Continue;
        return HigherAt(Judged(results, goal), alpha) && !HigherAt(results.DismissalsPerList, alpha) ? Decision.Promote : Decision.Stop;
    }

    /// <summary>
    /// What --decide --sequential does: nothing for a run that has ended; promote the candidate as soon as its
    /// <paramref name="goal"/>'s rate (the hit rate by default) is higher by the always-valid p-value at
    /// <paramref name="alpha"/> and its dismissals per list are not; stop it as soon as either shows it worse (a lower
    /// rate, more dismissals), or once each side has <paramref name="maxEvents"/> next events without a difference;
    /// otherwise let it run.
    /// </summary>
    internal static Decision DecideSequentially(Results results, long? maxEvents, double alpha, Goal goal = Goal.HitRate)
    {
        if (!results.Running) return Decision.Ended;
        if (Mismatched(results)) return Decision.Mismatch;
        var judged = Judged(results, goal);
        if (SequentiallyShown(results.DismissalsPerList, alpha, higher: true) || SequentiallyShown(judged, alpha, higher: false)) return Decision.Stop;
        if (SequentiallyShown(judged, alpha, higher: true)) return Decision.Promote;
        return maxEvents is { } most && Math.Min(results.CandidateArm.NextEvents, results.ControlArm.NextEvents) >= most ? Decision.Stop : Decision.Continue;
    }

    private static bool Mismatched(Results results) => results.SampleRatio is { Mismatch: true };

    /// <summary>Whether the always-valid p-value shows the candidate's rate <paramref name="higher"/> (or lower) than the control's at <paramref name="alpha"/>.</summary>
    private static bool SequentiallyShown(Comparison? comparison, double alpha, bool higher) =>
        comparison is { SequentialPValue: { } p } c && p < alpha && (higher ? c.Difference > 0 : c.Difference < 0);

    private static string By(bool sequential) => sequential ? " by the always-valid p-value" : "";

    private static string WhyStopped(Results results, double alpha, long? maxEvents, Goal goal)
    {
        var level = string.Create(CultureInfo.InvariantCulture, $"at the {alpha:0.###} level by the always-valid p-value");
        return SequentiallyShown(results.DismissalsPerList, alpha, higher: true) ? $"its dismissals per list are higher {level}"
            : SequentiallyShown(Judged(results, goal), alpha, higher: false) ? $"its {NameOf(goal)} is lower {level}"
            : string.Create(CultureInfo.InvariantCulture, $"no difference in the {NameOf(goal)} shown {level} within {maxEvents:N0} next events a side");
    }

    /// <summary>
    /// The next events each side needs for a relative change of <paramref name="lift"/> in <paramref name="goal"/>'s rate
    /// to be found at 0.05 with 80 % power: the counts so far scaled by (detectable difference now / the change)², since
    /// the detectable difference shrinks as the square root of the events (and of the lists, which come with them).
    /// Null before the rates can be compared or while the control's is 0.
    /// </summary>
    internal static (long Candidate, long Control)? Plan(Results results, double lift, Goal goal = Goal.HitRate)
    {
        if (Judged(results, goal) is not { Control: > 0, MinimumDetectableDifference: > 0 } rate) return null;
        var scale = Math.Pow(rate.MinimumDetectableDifference / (lift * rate.Control), 2);
        return ((long)Math.Ceiling(results.CandidateArm.NextEvents * scale), (long)Math.Ceiling(results.ControlArm.NextEvents * scale));
    }

    private static string DescribePlan(Results results, double lift, Goal goal) =>
        Plan(results, lift, goal) is { } needed
            ? string.Create(CultureInfo.InvariantCulture,
                $"a {lift * 100:0.#} % change in the {NameOf(goal)} ({lift * Judged(results, goal)!.Control:0.0000}) needs about {needed.Candidate:N0} next events on the candidate's side and {needed.Control:N0} on the control's ") +
              string.Create(CultureInfo.InvariantCulture, $"to be found at 0.05 with 80 % power (now {results.CandidateArm.NextEvents:N0} and {results.ControlArm.NextEvents:N0}): --min-events {Math.Min(needed.Candidate, needed.Control)}.")
            : "too few next events on a side to plan from yet.";

    /// <summary>Whether the candidate's rate is the higher one at <paramref name="alpha"/>.</summary>
    private static bool HigherAt(Comparison? comparison, double alpha) => comparison is { Difference: > 0 } c && c.PValue < alpha;

    private static async Task<string?> RunningCandidate(ApiConnection http, int attempts, TextWriter error, CancellationToken cancellation) =>
        (await http.ReadAsync<Registry>("models", attempts, error, Reading, cancellation) ?? throw new InvalidDataException("the list of models could not be read.")).Candidate;

    /// <summary>DELETE /models/{version}/candidate; 0, or 1 with the problem on <paramref name="error"/>.</summary>
    private static async Task<int> Stop(ApiConnection http, string version, int attempts, TextWriter error, CancellationToken cancellation)
    {
        var endpoint = $"models/{Uri.EscapeDataString(version)}/candidate";
        // Not sent again when the answer is lost: the repeat would find the version stopped (404) and call that a failure.
        using var response = await http.SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, endpoint), attempts, retryLost: false, error,
            HttpCompletionOption.ResponseContentRead, cancellation);
        if (response.IsSuccessStatusCode) return 0;
        await ApiProblem.ReportAsync(http, endpoint, response.StatusCode, await response.Content.ReadAsStringAsync(cancellation), error, "Deciding a test");
        return 1;
    }

    /// <summary>The lines printed for <paramref name="results"/>, the verdicts at <paramref name="alpha"/>.</summary>
    internal static IEnumerable<string> Describe(Results results, double alpha)
    {
        var c = CultureInfo.InvariantCulture;
        yield return string.Create(c, $"{results.Candidate} against {results.Control} since {results.Since.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z, ")
            + (results.Running ? string.Create(c, $"running for {results.Share:0.###} of the users") : "ended");
        foreach (var (side, arm, name) in new[] { ("candidate", results.CandidateArm, results.Candidate), ("control", results.ControlArm, results.Control) })
            yield return string.Create(c, $"{side} {name}: {arm.NextEvents:N0} next events, {arm.Hits:N0} in the list; hit rate {Rate(arm.HitRate)}, mean reciprocal rank {Rate(arm.MeanReciprocalRank)}; ")
                + string.Create(c, $"{arm.Lists:N0} lists, {arm.Dismissals:N0} items dismissed, {Rate(arm.DismissalsPerList)} a list, {arm.Purchases:N0} bought, {Rate(arm.PurchasesPerList)} a list, ")
                + string.Create(c, $"{arm.Revenue:#,0.##} paid, {Rate(arm.RevenuePerList)} a list");
        yield return results.SampleRatio is { } split
            ? string.Create(c, $"users served: {split.CandidateUsers:N0} on the candidate's side, {split.ControlUsers:N0} on the control's, a share of {split.ObservedShare:0.0000} where {split.ExpectedShare:0.####} was drawn, p = {split.PValue:0.0000}")
              + (split.Mismatch ? ": SAMPLE RATIO MISMATCH, the users are not split as drawn and no comparison below can be trusted." : ": split as drawn.")
            : "users served: none counted yet.";
        foreach (var (metric, comparison) in new[]
                 {
                     ("hit rate", results.HitRate), ("mean reciprocal rank", results.MeanReciprocalRank), ("dismissals per list", results.DismissalsPerList),
                     ("purchases per list", results.PurchasesPerList), ("revenue per list", results.RevenuePerList),
                 })
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
            var sequential = comparison.SequentialPValue is { } p
                ? string.Create(c, $" Always valid: p = {p:0.0000}") + (comparison is { SequentialLow: { } low, SequentialHigh: { } high } ? string.Create(c, $", 95 % interval [{low:0.0000}, {high:0.0000}]") : "")
                  + (p < alpha ? $": the candidate is {(comparison.Difference > 0 ? "higher" : "lower")}." : ": no difference shown.")
                : " Always valid: not yet (from 32 buckets of users a side).";
            yield return string.Create(c, $"{metric}: {comparison.Difference:+0.0000;-0.0000;0.0000}{relative}, 95 % interval [{comparison.Low:0.0000}, {comparison.High:0.0000}], p = {comparison.PValue:0.0000}: {verdict} at the {alpha:0.###} level; ")
                + string.Create(c, $"a difference of {comparison.MinimumDetectableDifference:0.0000} would be found now with 80 % power at 0.05.") + sequential;
        }
        foreach (var line in DescribeScenarios(results)) yield return line;
    }

    private static string Rate(double? rate) => rate is { } r ? r.ToString("0.0000", CultureInfo.InvariantCulture) : "-";

    /// <summary>A line per scenario the run split its counts by: each side's next events and lists, and the rates compared (one-look p-values).</summary>
    private static IEnumerable<string> DescribeScenarios(Results results)
    {
        var c = CultureInfo.InvariantCulture;
        foreach (var scenario in results.Scenarios ?? [])
        {
            var line = string.Create(c, $"scenario {scenario.Scenario}: {scenario.CandidateArm.NextEvents:N0} and {scenario.ControlArm.NextEvents:N0} next events, ")
                + string.Create(c, $"{scenario.CandidateArm.Lists:N0} and {scenario.ControlArm.Lists:N0} lists (candidate and control)");
            foreach (var (metric, comparison) in new[]
                     {
                         ("hit rate", scenario.HitRate), ("dismissals per list", scenario.DismissalsPerList), ("purchases per list", scenario.PurchasesPerList),
                         ("revenue per list", scenario.RevenuePerList),
                     })
                if (comparison is not null)
                    line += string.Create(c, $"; {metric} {comparison.Candidate:0.0000} against {comparison.Control:0.0000}, {comparison.Difference:+0.0000;-0.0000;0.0000} ")
                        + string.Create(c, $"[{comparison.Low:0.0000}, {comparison.High:0.0000}], p = {comparison.PValue:0.0000}");
            yield return line + ".";
        }
    }

    internal sealed record Arm(long NextEvents, long Hits, double? HitRate, double? MeanReciprocalRank, long Lists = 0, long Dismissals = 0, double? DismissalsPerList = null,
        long? Users = 0, long Purchases = 0, double? PurchasesPerList = null, double Revenue = 0, double? RevenuePerList = null);

    internal sealed record Split(long CandidateUsers, long ControlUsers, double ExpectedShare, double ObservedShare, double PValue, bool Mismatch);

    internal sealed record Comparison(double Candidate, double Control, double Difference, double? RelativeDifference, double Low, double High, double PValue,
        double MinimumDetectableDifference = 0, double? SequentialPValue = null, double? SequentialLow = null, double? SequentialHigh = null);

    internal sealed record Registry(string? Active, string? Candidate);

    internal sealed record Results(string Candidate, string Control, DateTimeOffset Since, bool Running, double? Share, Arm CandidateArm, Arm ControlArm,
        Comparison? HitRate, Comparison? MeanReciprocalRank, Comparison? DismissalsPerList = null, Split? SampleRatio = null, Comparison? PurchasesPerList = null,
        Comparison? RevenuePerList = null, ScenarioResults[]? Scenarios = null);

    internal sealed record ScenarioResults(string Scenario, Arm CandidateArm, Arm ControlArm, Comparison? HitRate, Comparison? MeanReciprocalRank,
        Comparison? DismissalsPerList, Comparison? PurchasesPerList, Comparison? RevenuePerList);
}
