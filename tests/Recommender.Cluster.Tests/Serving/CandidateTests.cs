using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Recommender.Abstractions;
using Recommender.Cluster.Tests.Api;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Grains.Experiments;
using Recommender.Grains.Ranking;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// A candidate version served beside the active one to a share of the users (POST and DELETE
/// /models/{version}/candidate): each user and each visitor's session on the side the draw gives, item writes reaching
/// its shards, and the candidate ended by a stop or an activation.
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class CandidateTests(ServingCluster cluster)
{
    private static readonly string[] Users = [.. Enumerable.Range(1, 40).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    private async Task<HttpResponseMessage> Start(string version, string query) => await cluster.Http.PostAsync($"/models/{version}/candidate{query}", null);

    private async Task<ProblemReply> Refused(HttpResponseMessage response, HttpStatusCode status)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"answered {(int)response.StatusCode}: {body}");
            return (await response.Content.ReadFromJsonAsync<ProblemReply>())!;
        }
    }

    /// <summary>
    /// Waits until every user (with a history the versions know) is served by the version <paramref name="expected"/>
    /// names, then for the catalogue cache's lifetime: the silos that served them have read the change, and one that
    /// served none of them (where a session may land) has read it too by then.
    /// </summary>
    private async Task WaitForSides(Func<string, string> expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var wrong = new List<string>();
            foreach (var user in Users)
            {
                var reply = await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=3");
                Assert.Equal("model", reply.Source);
                if (reply.ModelVersion != expected(user)) wrong.Add($"{user}: {reply.ModelVersion}, not {expected(user)}");
            }
            if (wrong.Count == 0)
            {
                await Task.Delay(ServingChecks.CatalogueCacheTtl(cluster) + TimeSpan.FromMilliseconds(50));
                return;
            }
            if (DateTime.UtcNow > deadline) Assert.Fail(string.Join("; ", wrong));
            await Task.Delay(100);
        }
    }

    private async Task<SessionRecommendationsReply> Session(object body)
    {
        using var response = await cluster.Http.PostAsJsonAsync("/recommendations?k=3", body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<SessionRecommendationsReply>())!;
    }

    [Fact]
    public async Task A_candidate_serves_the_users_drawn_for_it_takes_item_writes_and_ends_with_a_stop_or_an_activation()
    {
        var served = (await cluster.GetJsonAsync<ModelsReply>("/models")).Active!;
        var dimension = (await cluster.GetJsonAsync<ModelsReply>("/models")).Models.Single(m => m.Version == served).Dimension;
        var candidate = TestPackages.NewVersion("candidate");
        var next = TestPackages.NewVersion("after-candidate");
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, candidate, dimension));
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, next, dimension));
        try
        {
            // Refused, nothing started: no share, one out of range or not a number, the active version, an unknown one.
            foreach (var query in new[] { "", "?share=0", "?share=1.5", "?share=-0.1", "?share=ten", "?share=NaN" })
                Assert.Contains("share", (await Refused(await Start(candidate, query), HttpStatusCode.BadRequest)).Errors!.Keys);
            Assert.Contains("is the active version", (await Refused(await Start(served, "?share=0.5"), HttpStatusCode.Conflict)).Errors!["version"][0]);
            Assert.Contains("not registered", (await Refused(await Start("no-such-version", "?share=0.5"), HttpStatusCode.NotFound)).Errors!["version"][0]);
            Assert.Contains("not the candidate", (await Refused(await cluster.Http.DeleteAsync($"/models/{candidate}/candidate"), HttpStatusCode.NotFound)).Errors!["version"][0]);
            Assert.Null((await cluster.GetJsonAsync<ModelsReply>("/models")).Candidate);

            using (var started = await Start(candidate, "?share=0.5"))
            {
                Assert.True(started.IsSuccessStatusCode, await started.Content.ReadAsStringAsync());
                var reply = (await started.Content.ReadFromJsonAsync<CandidateReply>())!;
                Assert.Equal((candidate, 0.5, served), (reply.Candidate, reply.Share, reply.Active));
            }
            var listed = await cluster.GetJsonAsync<ModelsReply>("/models");
            Assert.Equal((served, candidate, 0.5), (listed.Active, listed.Candidate, listed.CandidateShare));
            Assert.Equal("candidate", listed.Models.Single(m => m.Version == candidate).State);
            string Drawn(string user) => ServingModel.Draw(candidate, user) < 0.5 ? candidate : served;
            Assert.Contains(Users, u => Drawn(u) == candidate);
            Assert.Contains(Users, u => Drawn(u) == served);
            await WaitForSides(Drawn);
            Assert.Contains("share of the users", (await Refused(await cluster.Http.DeleteAsync($"/models/{candidate}"), HttpStatusCode.Conflict)).Errors!["version"][0]);

            // An anonymous session is on the side its visitor id is drawn for, and on the active version without one.
            var visitors = Enumerable.Range(0, 30).Select(i => $"visitor-{i}").ToArray();
            Assert.Contains(visitors, v => Drawn(v) == candidate);
            Assert.Contains(visitors, v => Drawn(v) == served);
            foreach (var visitor in visitors)
                Assert.Equal(Drawn(visitor), (await Session(new { items = new[] { "1", "2" }, visitorId = visitor })).ModelVersion);
            Assert.Equal(served, (await Session(new { items = new[] { "1", "2" } })).ModelVersion);
            using (var blank = await cluster.Http.PostAsJsonAsync("/recommendations?k=3", new { items = new[] { "1" }, visitorId = " " }))
                Assert.Contains("visitorId", (await Refused(blank, HttpStatusCode.BadRequest)).Errors!.Keys);

            // An item written now reaches the candidate's shards: once every user is on the candidate (the share changes,
            // nothing is rebuilt), a list filtered to its tag finds it there.
            var item = "candidate-item-" + Guid.NewGuid().ToString("N");
            var tag = "only-" + item;
            var embedding = Enumerable.Range(0, dimension).Select(i => (float)Math.Cos(i)).ToArray();
            using (var put = await cluster.Http.PutAsJsonAsync($"/items/{item}", new { title = "New on both sides", tags = new[] { tag }, embedding }))
                Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
            using (var raised = await Start(candidate, "?share=1"))
                Assert.True(raised.IsSuccessStatusCode, await raised.Content.ReadAsStringAsync());
            Assert.Equal(1.0, (await cluster.GetJsonAsync<ModelsReply>("/models")).CandidateShare);
            await WaitForSides(_ => candidate);
            var tagged = await cluster.GetJsonAsync<RecommendationsReply>($"/users/7/recommendations?k=3&tag={tag}");
            Assert.Equal(candidate, tagged.ModelVersion);
            Assert.Equal([item], tagged.Items.Select(i => i.Id));

            // Stopped: everyone is back on the active version, and the candidate drains as a retired version does.
            using (var stopped = await cluster.Http.DeleteAsync($"/models/{candidate}/candidate"))
                Assert.Equal(HttpStatusCode.NoContent, stopped.StatusCode);
            listed = await cluster.GetJsonAsync<ModelsReply>("/models");
            Assert.Null(listed.Candidate);
            Assert.Equal("retired", listed.Models.Single(m => m.Version == candidate).State);
            Assert.NotNull(listed.Models.Single(m => m.Version == candidate).RetiredAt);
            await WaitForSides(_ => served);

            // Started again, then ended by an activation: everyone is on the version activated.
            using (var again = await Start(candidate, "?share=0.5"))
                Assert.True(again.IsSuccessStatusCode, await again.Content.ReadAsStringAsync());
            await WaitForSides(Drawn);
            await TestPackages.Activate(cluster.Http, next);
            Assert.Null((await cluster.GetJsonAsync<ModelsReply>("/models")).Candidate);
            await WaitForSides(_ => next);
        }
        finally
        {
            using (await cluster.Http.DeleteAsync($"/models/{candidate}/candidate")) { }
            await TestPackages.Activate(cluster.Http, served);
            await ServingChecks.WaitForVersion(cluster, "3", served);
        }
    }

    private Task<(int Exit, string Output, string Error)> Cli(params string[] args) => CommandLine.Run(cluster.BaseAddress, args, "--attempts", "2");

    private async Task<CandidateResultsReply> Results(string version)
    {
        using var response = await cluster.Http.GetAsync($"/models/{version}/candidate/results");
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<CandidateResultsReply>())!;
    }

    /// <summary>A silo's flush of ten next events in each of 64 buckets a side, hits alternating one above and below the given count.</summary>
    private static ExperimentTally Flush(DateTimeOffset since, int candidateHits, int controlHits)
    {
        static ArmTally Side(int hits)
        {
            var arm = ArmTally.Empty();
            for (var b = 0; b < 64; b++)
            {
                var hit = hits + (b % 2 == 0 ? 1 : -1);
                (arm.Events[b], arm.Hits[b], arm.ReciprocalRanks[b]) = (10, hit, hit);
            }
            return arm;
        }
        return new ExperimentTally("v2", "v1", since, Side(candidateHits), Side(controlHits));
    }

    [Fact]
    public async Task A_runs_grain_looks_at_every_flush_keeps_the_smallest_sequential_p_value_and_starts_afresh_with_a_new_run()
    {
        var grain = cluster.Cluster.Client.GetGrain<IExperimentGrain>(TestPackages.NewVersion("sequential"));
        var since = DateTimeOffset.UtcNow;
        static SequentialTest Expected(ExperimentTally counts, SequentialTest? before) =>
            SequentialTesting.Look(before, ExperimentComparison.HitRate(counts.CandidateArm), ExperimentComparison.HitRate(counts.ControlArm), lift: 0.1)!;
        try
        {
            var first = Flush(since, 5, 3);
            await grain.Add(first);
            var afterFirst = (await grain.Get())!.Sequential!.HitRate!;
            Assert.Equal(Expected(first, null), afterFirst);
            Assert.True(afterFirst.PValue < 0.05, $"{afterFirst}");

            // Alike counts since: the summed difference halves, and the smallest p-value so far stays. The flush sent
            // again (its answer lost) is not counted twice.
            var flush = Guid.NewGuid();
            await grain.AddOnce(flush, Flush(since, 3, 3));
            await grain.AddOnce(flush, Flush(since, 3, 3));
            var held = (await grain.Get())!;
            Assert.Equal(20L * 64, held.CandidateArm.TotalEvents);
            Assert.Equal((afterFirst.PValue, afterFirst.MixingVariance, 2), (held.Sequential!.HitRate!.PValue, held.Sequential.HitRate.MixingVariance, held.Sequential.HitRate.Looks));
            Assert.True(Expected(held with { Sequential = null }, null).PValue > afterFirst.PValue, "the counts alone give a larger p-value now");

            // A late flush of an earlier run is dropped; a later run starts its tests afresh.
            await grain.Add(Flush(since.AddSeconds(-1), 9, 0));
            Assert.Equal(held.Sequential, (await grain.Get())!.Sequential);
            var next = Flush(since.AddMinutes(1), 3, 3);
            await grain.Add(next);
            var restarted = (await grain.Get())!;
            Assert.Equal((since.AddMinutes(1), 10L * 64), (restarted.Since, restarted.CandidateArm.TotalEvents));
            Assert.Equal(Expected(next, null), restarted.Sequential!.HitRate);
            Assert.Equal(1, restarted.Sequential.MeanReciprocalRank!.Looks);
            // No lists were counted: no dismissals per list to test.
            Assert.Null(restarted.Sequential.DismissalsPerList);
        }
        finally
        {
            await grain.Clear();
        }
    }

    [Fact]
    public async Task A_candidates_results_count_each_sides_next_events_and_start_afresh_with_each_run()
    {
        var served = (await cluster.GetJsonAsync<ModelsReply>("/models")).Active!;
        var dimension = (await cluster.GetJsonAsync<ModelsReply>("/models")).Models.Single(m => m.Version == served).Dimension;
        var candidate = TestPackages.NewVersion("ab");
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, candidate, dimension));
        try
        {
            Assert.Contains("not registered", (await Refused(await cluster.Http.GetAsync("/models/no-such-version/candidate/results"), HttpStatusCode.NotFound)).Errors!["version"][0]);
            Assert.Contains("has not run as a candidate", (await Refused(await cluster.Http.GetAsync($"/models/{candidate}/candidate/results"), HttpStatusCode.NotFound)).Errors!["version"][0]);

            using (var started = await Start(candidate, "?share=0.5"))
                Assert.True(started.IsSuccessStatusCode, await started.Content.ReadAsStringAsync());
            string Drawn(string user) => ServingModel.Draw(candidate, user) < 0.5 ? candidate : served;
            var waitedFor = Users.First(u => Drawn(u) == candidate);
            await ServingChecks.WaitForVersion(cluster, waitedFor, candidate);
            var since = (await cluster.GetJsonAsync<ModelsReply>("/models")).CandidateSince!.Value;
            var empty = await Results(candidate);
            Assert.Equal((candidate, served, since, true, 0.5), (empty.Candidate, empty.Control, empty.Since, empty.Running, empty.Share));
            Assert.Equal((0L, 0L), (empty.CandidateArm.NextEvents, empty.ControlArm.NextEvents));
            Assert.Null(empty.HitRate);

            // New users, each with a history, served a list, then taking its first item (on the candidate's side, and the
            // even users on the other) or one not in it.
            var prefix = "ab-" + Guid.NewGuid().ToString("N");
            var users = Enumerable.Range(0, 40).Select(i => $"{prefix}-{i}").ToArray();
            using (var history = await cluster.Http.PostAsJsonAsync("/events", users.SelectMany(u => new[]
                   {
                       new { userId = u, itemId = "1", type = "view", timestamp = DateTimeOffset.UtcNow.AddMinutes(-10) },
                       new { userId = u, itemId = "2", type = "view", timestamp = DateTimeOffset.UtcNow.AddMinutes(-5) },
                   }).ToArray()))
                Assert.True(history.IsSuccessStatusCode, await history.Content.ReadAsStringAsync());
            var expected = new Dictionary<string, (long Events, long Hits)> { [candidate] = (0, 0), [served] = (0, 0) };
            var lists = new Dictionary<string, long> { [candidate] = 0, [served] = 0 };
            // Users served a list in the run, each once: the one read above while waiting for the candidate, and the new ones.
            var usersOn = new Dictionary<string, long> { [candidate] = 1, [served] = 0 };
            var purchases = new Dictionary<string, long> { [candidate] = 0, [served] = 0 };
            var revenue = new Dictionary<string, double> { [candidate] = 0, [served] = 0 };
            var dismissals = new Dictionary<string, long> { [candidate] = 0, [served] = 0 };
            // The odd users read their lists under a scenario (of no rules, so the lists are the same): its counts are kept apart as well.
            var scenario = $"ab-{Guid.NewGuid():N}";
            using (var defined = await cluster.Http.PutAsync($"/scenarios/{scenario}", new StringContent("{}", System.Text.Encoding.UTF8, "application/json")))
                Assert.True(defined.IsSuccessStatusCode, await defined.Content.ReadAsStringAsync());
            var underScenario = new Dictionary<string, (long Events, long Hits, long Lists, long Dismissals, long Purchases)> { [candidate] = default, [served] = default };
            for (var i = 0; i < users.Length; i++)
            {
                var list = await cluster.GetJsonAsync<RecommendationsReply>($"/users/{users[i]}/recommendations?k=3{(i % 2 == 1 ? $"&scenario={scenario}" : "")}");
                Assert.Equal(("model", Drawn(users[i])), (list.Source, list.ModelVersion));
                var listed = list.Items.Select(item => item.Id).ToHashSet();
                // Every third user on the active version's side first dismisses the list's second item (not a next event).
                if (i % 3 == 0 && list.ModelVersion == served)
                {
                    using var dismissal = await cluster.Http.PostAsJsonAsync("/events", new { userId = users[i], itemId = list.Items[1].Id, type = "dismiss" });
                    Assert.True(dismissal.IsSuccessStatusCode, await dismissal.Content.ReadAsStringAsync());
                    dismissals[list.ModelVersion]++;
                }
                lists[list.ModelVersion]++;
                usersOn[list.ModelVersion]++;
                var hit = list.ModelVersion == candidate || i % 2 == 0;
                var next = hit ? list.Items[0].Id : Enumerable.Range(3, 10).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)).First(id => !listed.Contains(id));
                // Every fourth user also buys the list's third item, just after the next event (in the same batch), paying
                // an amount of its own.
                var now = DateTimeOffset.UtcNow;
                var paid = 10 + i * 0.25;
                var answerEvents = i % 4 == 1
                    ? new object[] { new { userId = users[i], itemId = next, type = "view", timestamp = now }, new { userId = users[i], itemId = list.Items[2].Id, type = "purchase", timestamp = now.AddMilliseconds(1), value = paid } }
                    : [new { userId = users[i], itemId = next, type = "view", timestamp = now }];
                if (i % 4 == 1) (purchases[list.ModelVersion], revenue[list.ModelVersion]) = (purchases[list.ModelVersion] + 1, revenue[list.ModelVersion] + paid);
                using (var answer = await cluster.Http.PostAsJsonAsync("/events", answerEvents))
                    Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
                var (events, hits) = expected[list.ModelVersion];
                expected[list.ModelVersion] = (events + 1, hits + (hit ? 1 : 0));
                if (i % 2 == 1)
                {
                    var split = underScenario[list.ModelVersion];
                    underScenario[list.ModelVersion] = (split.Events + 1, split.Hits + (hit ? 1 : 0), split.Lists + 1,
                        split.Dismissals + (i % 3 == 0 && list.ModelVersion == served ? 1 : 0), split.Purchases + (i % 4 == 1 ? 1 : 0));
                }
            }
            Assert.All(expected.Values, e => Assert.True(e.Events > 2, "both sides have users"));

            // Anonymous visitors count too: each sends a session with a visitorId, then one holding the list's first item.
            var visitors = Enumerable.Range(0, 20).Select(i => $"{prefix}-visitor-{i}").ToArray();
            foreach (var visitor in visitors)
            {
                var first = await Session(new { items = new[] { "1", "2" }, visitorId = visitor });
                Assert.Equal(("model", Drawn(visitor)), (first.Source, first.ModelVersion));
                // The session grain tells the visitor's grain without waiting: a visitor's next page view comes seconds
                // later, not in the same millisecond.
                await Task.Delay(100);
                await Session(new { items = new[] { "1", "2", first.Items[0].Id }, visitorId = visitor });
                var (events, hits) = expected[first.ModelVersion];
                expected[first.ModelVersion] = (events + 1, hits + 1);
                lists[first.ModelVersion] += 2;
            }

            // The silos send their counts every few seconds.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            var results = await Results(candidate);
            while (results.CandidateArm.NextEvents + results.ControlArm.NextEvents < users.Length + visitors.Length && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
                results = await Results(candidate);
            }
            Assert.Equal((expected[candidate].Events, expected[candidate].Hits), (results.CandidateArm.NextEvents, results.CandidateArm.Hits));
            Assert.Equal((expected[served].Events, expected[served].Hits), (results.ControlArm.NextEvents, results.ControlArm.Hits));
            // A user whose mark could not be stored (a write the busy test machine failed) is counted at its next list:
            // each user is read once more, which must count those and no one twice.
            foreach (var user in users.Append(waitedFor))
                Assert.NotEmpty((await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=3")).Items);
            lists[candidate] += users.Count(u => Drawn(u) == candidate) + 1;
            lists[served] += users.Count(u => Drawn(u) == served);
            deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while ((results.CandidateArm.Users + results.ControlArm.Users < usersOn[candidate] + usersOn[served]
                    || results.CandidateArm.Lists < lists[candidate] || results.ControlArm.Lists < lists[served]) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
                results = await Results(candidate);
            }
            // Dismissals are counted by the side whose list held the item; lists by the side that served them (waiting for
            // the version above read some users' lists too).
            Assert.Equal((dismissals[candidate], dismissals[served]), (results.CandidateArm.Dismissals, results.ControlArm.Dismissals));
            Assert.InRange(results.CandidateArm.Lists, lists[candidate], lists[candidate] + 50);
            Assert.InRange(results.ControlArm.Lists, lists[served], lists[served] + 50);
            Assert.Equal((double)results.CandidateArm.Dismissals / results.CandidateArm.Lists, results.CandidateArm.DismissalsPerList!.Value, 12);
            Assert.NotNull(results.DismissalsPerList);
            // Purchases of listed items, by the side whose list held them.
            Assert.Equal((purchases[candidate], purchases[served]), (results.CandidateArm.Purchases, results.ControlArm.Purchases));
            Assert.Equal((double)results.CandidateArm.Purchases / results.CandidateArm.Lists, results.CandidateArm.PurchasesPerList!.Value, 12);
            Assert.NotNull(results.PurchasesPerList);
            // And the amount paid for them.
            Assert.Equal(revenue[candidate], results.CandidateArm.Revenue, 9);
            Assert.Equal(revenue[served], results.ControlArm.Revenue, 9);
            Assert.Equal(results.CandidateArm.Revenue / results.CandidateArm.Lists, results.CandidateArm.RevenuePerList!.Value, 12);
            Assert.NotNull(results.RevenuePerList);
            Assert.Equal(results.CandidateArm.RevenuePerList.Value - results.ControlArm.RevenuePerList!.Value, results.RevenuePerList.Difference, 12);
            var candidateRate = (double)expected[candidate].Hits / expected[candidate].Events;
            var controlRate = (double)expected[served].Hits / expected[served].Events;
            Assert.Equal(candidateRate, results.CandidateArm.HitRate!.Value, 12);
            // Every hit was the list's first item: the mean reciprocal rank is the hit rate.
            Assert.Equal(candidateRate, results.CandidateArm.MeanReciprocalRank!.Value, 12);
            Assert.NotNull(results.HitRate);
            Assert.Equal(candidateRate - controlRate, results.HitRate.Difference, 12);
            Assert.InRange(results.HitRate.Difference, results.HitRate.Low, results.HitRate.High);
            Assert.InRange(results.HitRate.PValue, 0, 1);
            Assert.Equal(results.HitRate.Difference, results.MeanReciprocalRank!.Difference, 12);
            // The split: each user once (visitors are not counted), checked against the share drawn.
            Assert.Equal((usersOn[candidate], usersOn[served]), (results.CandidateArm.Users, results.ControlArm.Users));
            Assert.NotNull(results.SampleRatio);
            Assert.Equal((usersOn[candidate], usersOn[served], 0.5), (results.SampleRatio.CandidateUsers, results.SampleRatio.ControlUsers, results.SampleRatio.ExpectedShare));
            Assert.InRange(results.SampleRatio.PValue, 0.001, 1);
            Assert.False(results.SampleRatio.Mismatch);

            // The lists read under the scenario, counted apart: no users (a user is counted for the run), one-look p-values only.
            var apart = Assert.Single(results.Scenarios);
            Assert.Equal(scenario, apart.Scenario);
            foreach (var (arm, version) in new[] { (apart.CandidateArm, candidate), (apart.ControlArm, served) })
            {
                Assert.Equal(underScenario[version], (arm.NextEvents, arm.Hits, arm.Lists, arm.Dismissals, arm.Purchases));
                Assert.Null(arm.Users);
            }
            Assert.All(underScenario.Values, split => Assert.True(split.Events > 0, "both sides have users under the scenario"));
            Assert.True(apart.CandidateArm.NextEvents < results.CandidateArm.NextEvents);
            Assert.NotNull(apart.HitRate);
            Assert.Equal(apart.CandidateArm.HitRate!.Value - apart.ControlArm.HitRate!.Value, apart.HitRate.Difference, 12);
            Assert.Null(apart.HitRate.SequentialPValue);

            // The command prints the same, with a verdict; a version that never ran is its error and exit code 1.
            var (exit, output, error) = await Cli("candidate-results", "--version", candidate);
            Assert.True(exit == 0, error);
            Assert.True(output.Contains($"{candidate} against {served} since", StringComparison.Ordinal), output);
            Assert.True(output.Contains(string.Create(CultureInfo.InvariantCulture, $"candidate {candidate}: {expected[candidate].Events} next events, {expected[candidate].Hits} in the list; hit rate {candidateRate:0.0000}"), StringComparison.Ordinal), output);
            Assert.Contains(string.Create(CultureInfo.InvariantCulture,
                $"hit rate: {results.HitRate.Difference:+0.0000;-0.0000;0.0000}"), output);
            Assert.Contains("hit rate: +", output);
            Assert.Contains("the candidate is higher at the 0.05 level", output);
            Assert.Contains("would be found now with 80 % power at 0.05.", output);
            // Too few users for the always-valid p-value (no more than 40 a side, so fewer than 32 buckets each).
            Assert.Null(results.HitRate.SequentialPValue);
            Assert.Contains("Always valid: not yet (from 32 buckets of users a side).", output);
            Assert.Contains(string.Create(CultureInfo.InvariantCulture,
                $"users served: {usersOn[candidate]} on the candidate's side, {usersOn[served]} on the control's, a share of {results.SampleRatio.ObservedShare:0.0000} where 0.5 was drawn, p = {results.SampleRatio.PValue:0.0000}: split as drawn."), output);
            Assert.Contains(string.Create(CultureInfo.InvariantCulture,
                $"scenario {scenario}: {apart.CandidateArm.NextEvents} and {apart.ControlArm.NextEvents} next events, {apart.CandidateArm.Lists} and {apart.ControlArm.Lists} lists (candidate and control); hit rate {apart.HitRate.Candidate:0.0000} against {apart.HitRate.Control:0.0000}"), output);
            (exit, output, error) = await Cli("candidate-results", "--version", candidate, "--plan-lift", "0.05");
            Assert.True(exit == 0, error);
            Assert.Matches(@"a 5 % change in the hit rate \(0\.\d{4}\) needs about [\d,]+ next events on the candidate's side and [\d,]+ on the control's to be found at 0\.05 with 80 % power \(now \d+ and \d+\): --min-events \d+\.", output);
            (exit, _, error) = await Cli("candidate-results", "--version", candidate, "--plan-lift", "0");
            Assert.Equal((1, true), (exit, error.Contains("--plan-lift 0 must be", StringComparison.Ordinal)));
            (exit, _, error) = await Cli("candidate-results", "--version", "no-such-version");
            Assert.Equal(1, exit);
            Assert.Contains("not registered", error);
            (exit, _, error) = await Cli("candidate-results", "--version", candidate, "--alpha", "1");
            Assert.Equal((1, true), (exit, error.Contains("--alpha", StringComparison.Ordinal)));

            // Deciding: before the test's length nothing changes; at it, the candidate, higher, is activated.
            (exit, output, error) = await Cli("candidate-results", "--decide", "--min-events", "1000");
            Assert.True(exit == 3, output + error);
            Assert.Contains(string.Create(CultureInfo.InvariantCulture,
                $"the test continues: {expected[candidate].Events} and {expected[served].Events} next events of the 1,000 each side needs."), output);
            Assert.Equal(candidate, (await cluster.GetJsonAsync<ModelsReply>("/models")).Candidate);
            (exit, output, error) = await Cli("candidate-results", "--decide", "--sequential", "--max-events", "1000");
            Assert.True(exit == 3, output + error);
            Assert.Contains(string.Create(CultureInfo.InvariantCulture,
                $"the test continues: no difference shown by the always-valid p-values at the 0.05 level yet ({expected[candidate].Events} and {expected[served].Events} next events of at most 1,000 a side)."), output);
            (exit, output, error) = await Cli("candidate-results", "--decide", "--sequential", "--max-events", "1000", "--goal", "purchases");
            Assert.True(exit == 3, output + error);
            (exit, output, error) = await Cli("candidate-results", "--decide", "--sequential", "--max-events", "1000", "--goal", "revenue");
            Assert.True(exit == 3, output + error);
            // The amount paid is all counted by now; the lists per side may have grown since (each user was read again).
            Assert.Matches(System.Text.RegularExpressions.Regex.Escape(string.Create(CultureInfo.InvariantCulture, $"{results.CandidateArm.Revenue:#,0.##} paid, ")) + @"\d+\.\d{4} a list", output);
            Assert.Contains("revenue per list: ", output);
            (exit, _, error) = await Cli("candidate-results", "--goal", "purchases");
            Assert.Equal((1, true), (exit, error.Contains("--goal is the rate --decide judges by (and --plan-lift plans for): give --decide or --plan-lift too.", StringComparison.Ordinal)));
            (exit, _, error) = await Cli("candidate-results", "--decide", "--goal", "profit");
            Assert.Equal((1, true), (exit, error.Contains("profit", StringComparison.Ordinal)));
            (exit, _, error) = await Cli("candidate-results", "--sequential");
            Assert.Equal((1, true), (exit, error.Contains("--sequential is a way of deciding: give --decide too.", StringComparison.Ordinal)));
            (exit, _, error) = await Cli("candidate-results", "--decide", "--sequential", "--min-events", "5");
            Assert.Equal((1, true), (exit, error.Contains("a sequential test needs none", StringComparison.Ordinal)));
            Assert.Equal(candidate, (await cluster.GetJsonAsync<ModelsReply>("/models")).Candidate);
            (exit, output, error) = await Cli("candidate-results", "--decide", "--min-events", "3");
            Assert.True(exit == 0, output + error);
            Assert.Contains($"promoting {candidate}: its hit rate is higher at the 0.05 level, its dismissals per list are not.", output);
            Assert.Contains($"active: {candidate} (before: {served})", output);
            var promoted = await cluster.GetJsonAsync<ModelsReply>("/models");
            Assert.Equal((candidate, (string?)null), (promoted.Active, promoted.Candidate));
            (exit, output, _) = await Cli("candidate-results", "--decide");
            Assert.Equal((0, true), (exit, output.Contains("no candidate runs: nothing to decide.", StringComparison.Ordinal)));

            // Ended, the run's results stay; started again, the new run counts from nothing.
            await TestPackages.Activate(cluster.Http, served);
            await ServingChecks.WaitForVersion(cluster, "3", served);
            var ended = await Results(candidate);
            Assert.Equal((false, (double?)null, since), (ended.Running, ended.Share, ended.Since));
            Assert.Equal((results.CandidateArm.NextEvents, results.ControlArm.Hits), (ended.CandidateArm.NextEvents, ended.ControlArm.Hits));
            using (var again = await Start(candidate, "?share=0.25"))
                Assert.True(again.IsSuccessStatusCode, await again.Content.ReadAsStringAsync());
            var second = await Results(candidate);
            Assert.True(second.Since > since, $"the second run began at {second.Since:O}, the first at {since:O}");
            Assert.Equal((true, (double?)0.25, 0L, 0L), (second.Running, second.Share, second.CandidateArm.NextEvents, second.ControlArm.NextEvents));
            // Its counts are its own: one user on the candidate's side takes the list's first item.
            await ServingChecks.WaitForVersion(cluster, Users.First(u => ServingModel.Draw(candidate, u) < 0.25), candidate);
            var onCandidate = users.First(u => ServingModel.Draw(candidate, u) < 0.25);
            var top = (await cluster.GetJsonAsync<RecommendationsReply>($"/users/{onCandidate}/recommendations?k=3")).Items[0].Id;
            using (var answer = await cluster.Http.PostAsJsonAsync("/events", new { userId = onCandidate, itemId = top, type = "view" }))
                Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
            deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (second.CandidateArm.NextEvents == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
                second = await Results(candidate);
            }
            Assert.Equal((second.Since, 1L, 1L, 0L), ((await Results(candidate)).Since, second.CandidateArm.NextEvents, second.CandidateArm.Hits, second.ControlArm.NextEvents));
            // Two users served in this run so far (the one read while waiting, and this one). A user is counted once a run
            // however often served, also when the grain is deactivated between two lists before any event stores its
            // history again: the mark is stored when the user is counted.
            deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (second.CandidateArm.Users < 2 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
                second = await Results(candidate);
            }
            Assert.Equal((2L, 0L), (second.CandidateArm.Users, second.ControlArm.Users));
            var returning = Enumerable.Range(0, 1000).Select(i => $"{prefix}-returning-{i}").First(u => ServingModel.Draw(candidate, u) < 0.25);
            using (var history = await cluster.Http.PostAsJsonAsync("/events", new { userId = returning, itemId = "1", type = "view" }))
                Assert.True(history.IsSuccessStatusCode, await history.Content.ReadAsStringAsync());
            Assert.Equal(candidate, (await cluster.GetJsonAsync<RecommendationsReply>($"/users/{returning}/recommendations?k=3")).ModelVersion);
            await cluster.Cluster.Client.GetGrain<IUserGrain>(returning).AsReference<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle();
            top = (await cluster.GetJsonAsync<RecommendationsReply>($"/users/{returning}/recommendations?k=3")).Items[0].Id;
            using (var answer = await cluster.Http.PostAsJsonAsync("/events", new { userId = returning, itemId = top, type = "view" }))
                Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
            deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while ((second.CandidateArm.NextEvents < 2 || second.CandidateArm.Users < 3) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
                second = await Results(candidate);
            }
            // The two activations may have been on two silos: every silo has flushed once more after this.
            await Task.Delay(ExperimentFlusher.Interval + TimeSpan.FromSeconds(1));
            second = await Results(candidate);
            Assert.Equal((2L, 3L), (second.CandidateArm.NextEvents, second.CandidateArm.Users));

            // With users in enough buckets (a silo's flush of many users, sent to the run's grain as a silo would), the
            // answer and the command carry the always-valid p-value and interval the grain's looks give.
            var experiment = cluster.Cluster.Client.GetGrain<IExperimentGrain>(candidate);
            await experiment.Add(Flush(second.Since, candidateHits: 4, controlHits: 3));
            var looked = (await experiment.Get())!.Sequential!.HitRate!;
            var sequential = (await Results(candidate)).HitRate!;
            Assert.Equal(looked.PValue, sequential.SequentialPValue);
            Assert.True(sequential.SequentialLow < sequential.Low && sequential.High < sequential.SequentialHigh, $"{sequential}");
            (exit, output, error) = await Cli("candidate-results", "--version", candidate);
            Assert.True(exit == 0, error);
            Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"Always valid: p = {looked.PValue:0.0000}, 95 % interval [{sequential.SequentialLow:0.0000}, {sequential.SequentialHigh:0.0000}]"), output);

            // Deleting the version (once its retire grace has passed) deletes its counts.
            using (var stopped = await cluster.Http.DeleteAsync($"/models/{candidate}/candidate"))
                Assert.Equal(HttpStatusCode.NoContent, stopped.StatusCode);
            deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (true)
            {
                using var deleted = await cluster.Http.DeleteAsync($"/models/{candidate}");
                if (deleted.StatusCode == HttpStatusCode.NoContent) break;
                Assert.True(deleted.StatusCode == HttpStatusCode.Conflict && DateTime.UtcNow < deadline, await deleted.Content.ReadAsStringAsync());
                await Task.Delay(250);
            }
            Assert.Null(await cluster.Cluster.Client.GetGrain<IExperimentGrain>(candidate).Get());
            Assert.Contains("not registered", (await Refused(await cluster.Http.GetAsync($"/models/{candidate}/candidate/results"), HttpStatusCode.NotFound)).Errors!["version"][0]);
        }
        finally
        {
            using (await cluster.Http.DeleteAsync($"/models/{candidate}/candidate")) { }
            if ((await cluster.GetJsonAsync<ModelsReply>("/models")).Active != served) await TestPackages.Activate(cluster.Http, served);
            await ServingChecks.WaitForVersion(cluster, "3", served);
        }
    }
}
