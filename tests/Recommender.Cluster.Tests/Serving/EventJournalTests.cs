using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;
using Recommender.Abstractions;
using Recommender.Cluster.Tests.Api;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Grains;
using Recommender.Grains.Users;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// A cluster of its own whose journal writes (<see cref="HeldRowStore"/>) and users' storage
/// (<see cref="FailingGrainStorage"/>) a test can make fail; its silos do not retry the journal on a timer, so that a
/// test sees the pending users before it asks for the retry.
/// </summary>
public sealed class EventJournalCluster() : ClusterFixture(ClusterFixtureOptions.ForSmallCatalogue("event-journal") with
{
    Settings = new Dictionary<string, string?>(ServingCluster.FastRefresh) 
    {
        ["Recommender:EventJournalRetryInterval"] = "01:00:00",
        ["Recommender:EventJournalHandOutTimeout"] = "00:00:03",
    },
})
{
    protected override void ConfigureSilos(TestClusterBuilder builder)
    {
        builder.AddSiloBuilderConfigurator<HeldRowStore.Configurator>();
        builder.AddSiloBuilderConfigurator<FailingGrainStorage.Configurator>();
    }
}

/// <summary>
/// A batch for several users is all-or-nothing: when it cannot be stored nothing is written (503), and once it is
/// stored a user whose history cannot take it yet is written by the journal's retries, exactly once, unless the user
/// is erased first.
/// </summary>
public sealed class EventJournalTests(EventJournalCluster cluster) : IClassFixture<EventJournalCluster>
{
    private InProcessSiloHandle Silo => (InProcessSiloHandle)cluster.Cluster.Primary!;

    private IGrainStorage Storage => Silo.SiloHost.Services.GetRequiredKeyedService<IGrainStorage>(Orleans.Providers.ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME);

    private IGrainRowStore Rows => Silo.SiloHost.Services.GetRequiredService<IGrainRowStore>();

    private static object Event(string user, string item, int second) =>
        new { userId = user, itemId = item, type = "view", timestamp = DateTimeOffset.UnixEpoch.AddSeconds(1_700_000_000 + second) };

    private async Task<(HttpStatusCode Status, IngestReply? Reply, string Body)> Post(params object[] events)
    {
        using var response = await cluster.Http.PostAsJsonAsync("/events", events);
        var body = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.IsSuccessStatusCode ? System.Text.Json.JsonSerializer.Deserialize<IngestReply>(body, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)) : null, body);
    }

    private async Task<string[]> Items(string user) =>
        (await cluster.Cluster.Client.User(user).GetHistory(null)).Events.Select(e => e.ItemId).ToArray();

    /// <summary>Journal rows that name any of the users (the tests share the cluster, so each counts its own).</summary>
    private async Task<int> JournalRows(params string[] users)
    {
        var count = 0;
        for (var p = 0; p < Partitions.EventJournal; p++)
            count += (await Rows.ReadAsync<JournalEntry>(EventJournalGrain.OwnerPrefix + p)).Count(r => r.Value.Users.Any(u => users.Contains(u.UserId)));
        return count;
    }

    private Task<int?> RetryJournal() => Silo.SiloHost.Services.GetRequiredService<EventJournalRetrier>().RetryAllAsync();

    /// <summary>Makes the user's grain hold a stale storage version, as after a concurrent writer: its next write fails once.</summary>
    private async Task MakeNextWriteFail(string user)
    {
        var grain = cluster.Cluster.Client.User(user);
        Assert.NotEmpty(await Items(user));
        var stored = new GrainState<UserState>(new UserState());
        await Storage.ReadStateAsync("user", grain.GetGrainId(), stored);
        await Storage.WriteStateAsync("user", grain.GetGrainId(), stored);
    }

    [Fact]
    public async Task A_batch_that_cannot_be_stored_writes_nothing_and_its_retry_writes_it_once()
    {
        var (a, b) = ("journal-none-a", "journal-none-b");
        HeldRowStore.FailWrites(EventJournalGrain.OwnerPrefix);
        try
        {
            var (status, _, body) = await Post(Event(a, "1", 1), Event(b, "2", 1), Event(a, "3", 2));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Contains("unavailable", body);
        }
        finally
        {
            HeldRowStore.StopFailing(EventJournalGrain.OwnerPrefix);
        }
        Assert.Empty(await Items(a));
        Assert.Empty(await Items(b));

        var (retried, reply, retriedBody) = await Post(Event(a, "1", 1), Event(b, "2", 1), Event(a, "3", 2));
        Assert.True(retried == HttpStatusCode.OK, retriedBody);
        Assert.Equal(new IngestReply(3, 0, 2, 0), reply);
        Assert.Equal(["1", "3"], await Items(a));
        Assert.Equal(["2"], await Items(b));
        Assert.Equal(0, await JournalRows(a, b));
    }

    [Fact]
    public async Task A_user_whose_write_fails_is_pending_and_the_retry_writes_its_events_exactly_once()
    {
        var (victim, other) = ("journal-pending-victim", "journal-pending-other");
        Assert.Equal(HttpStatusCode.OK, (await Post(Event(victim, "5", 0))).Status);
        await MakeNextWriteFail(victim);

        var (status, reply, body) = await Post(Event(victim, "7", 1), Event(other, "8", 1), Event(victim, "9", 2));
        Assert.True(status == HttpStatusCode.Accepted, body);
        Assert.Equal(new IngestReply(1, 0, 2, 1), reply);
        Assert.Equal(["8"], await Items(other));
        Assert.Equal(["5"], await Items(victim));
        Assert.Equal(1, await JournalRows(victim, other));

        Assert.Equal(0, await RetryJournal() ?? -1);
        Assert.Equal(["5", "7", "9"], await Items(victim));
        Assert.Equal(["8"], await Items(other));
        Assert.Equal(0, await JournalRows(victim, other));
        // Nothing is left to hand out a second time.
        Assert.Equal(0, await RetryJournal() ?? -1);
        Assert.Equal(3, (await cluster.Cluster.Client.User(victim).GetHistory(null)).TotalCount);
    }

    /// <summary>The events in the user's stored state, read past the grain's memory.</summary>
    private async Task<string[]> StoredItems(string user)
    {
        var stored = new GrainState<UserState>(new UserState());
        await Storage.ReadStateAsync("user", cluster.Cluster.Client.User(user).GetGrainId(), stored);
        return stored.State!.Events.OrderBy(e => e.Timestamp).Select(e => e.ItemId).ToArray();
    }

    private static object Event(string user, string item, int second, string eventId) =>
        new { userId = user, itemId = item, type = "view", timestamp = DateTimeOffset.UnixEpoch.AddSeconds(1_700_000_000 + second), eventId };

    [Fact]
    public async Task An_event_refused_while_its_users_storage_fails_is_stored_when_it_is_sent_again()
    {
        const string user = "journal-storage-direct";
        Assert.Equal(HttpStatusCode.OK, (await Post(Event(user, "31", 0, "direct-1"))).Status);
        FailingGrainStorage.Fail(user);
        try
        {
            var (refused, _, refusal) = await Post(Event(user, "33", 1, "direct-2"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused);
            // The database could not be reached at all: nothing can have been written.
            Assert.False(MayHaveBeenWritten(refusal));
        }
        finally
        {
            FailingGrainStorage.StopFailing(user);
        }
        var (status, reply, body) = await Post(Event(user, "33", 1, "direct-2"));
        Assert.True(status == HttpStatusCode.OK, body);
        Assert.Equal(new IngestReply(1, 0, 1, 0), reply);
        Assert.Equal(["31", "33"], await StoredItems(user));
    }

    private static bool MayHaveBeenWritten(string problem) =>
        System.Text.Json.JsonDocument.Parse(problem).RootElement.GetProperty("mayHaveBeenWritten").GetBoolean();

    [Fact]
    public async Task An_event_stored_by_a_write_that_reported_a_failure_is_acknowledged_once()
    {
        const string user = "journal-lost-ack-direct";
        Assert.Equal(HttpStatusCode.OK, (await Post(Event(user, "31", 0, "lost-ack-1"))).Status);
        FailingGrainStorage.LoseAcknowledgements(user);
        try
        {
            // The grain reads back what is stored, finds its write there and acknowledges it.
            var (status, reply, body) = await Post(Event(user, "33", 1, "lost-ack-2"));
            Assert.True(status == HttpStatusCode.OK, body);
            Assert.Equal(new IngestReply(1, 0, 1, 0), reply);
        }
        finally
        {
            FailingGrainStorage.StopFailing(user);
        }
        Assert.Equal(["31", "33"], await StoredItems(user));
        Assert.Equal(["31", "33"], await Items(user));
        var (again, againReply, againBody) = await Post(Event(user, "33", 1, "lost-ack-2"));
        Assert.True(again == HttpStatusCode.OK, againBody);
        Assert.Equal(new IngestReply(0, 1, 1, 0), againReply);
        // The grain's memory holds the stored version: its next write is not refused as a stale one.
        Assert.Equal(HttpStatusCode.OK, (await Post(Event(user, "35", 2, "lost-ack-3"))).Status);
        Assert.Equal(["31", "33", "35"], await StoredItems(user));
    }

    [Fact]
    public async Task An_event_whose_write_may_have_been_stored_is_answered_so_and_stored_once_when_sent_again()
    {
        const string user = "journal-lost-ack-unread";
        Assert.Equal(HttpStatusCode.OK, (await Post(Event(user, "31", 0, "unread-1"))).Status);
        FailingGrainStorage.LoseAcknowledgements(user);
        FailingGrainStorage.FailReads(user);
        try
        {
            // Stored, but neither the write's answer nor a read-back says so: the answer must not claim a refusal.
            var (status, _, body) = await Post(Event(user, "33", 1, "unread-2"));
            Assert.True(status == HttpStatusCode.ServiceUnavailable, body);
            Assert.True(MayHaveBeenWritten(body));
        }
        finally
        {
            FailingGrainStorage.StopFailing(user);
        }
        Assert.Equal(["31", "33"], await StoredItems(user));
        // Sent again under its id, as the answer asks: a repeat, not a second copy.
        var (again, reply, againBody) = await Post(Event(user, "33", 1, "unread-2"));
        Assert.True(again == HttpStatusCode.OK, againBody);
        Assert.Equal(new IngestReply(0, 1, 1, 0), reply);
        Assert.Equal(["31", "33"], await Items(user));
    }

    [Fact]
    public async Task A_batch_stored_by_a_write_that_reported_a_failure_goes_on_as_stored()
    {
        var (a, b) = ("journal-lost-ack-a", "journal-lost-ack-b");
        HeldRowStore.LoseAcknowledgements(EventJournalGrain.OwnerPrefix);
        try
        {
            var (status, reply, body) = await Post(Event(a, "1", 1), Event(b, "2", 1));
            Assert.True(status == HttpStatusCode.OK, body);
            Assert.Equal(new IngestReply(2, 0, 2, 0), reply);
        }
        finally
        {
            HeldRowStore.StopFailing(EventJournalGrain.OwnerPrefix);
        }
        Assert.Equal(["1"], await Items(a));
        Assert.Equal(["2"], await Items(b));
        Assert.Equal(0, await JournalRows(a, b));
    }

    [Fact]
    public async Task A_batch_whose_write_may_have_been_stored_is_answered_so_and_finished_by_the_retry()
    {
        var (a, b) = ("journal-unread-a", "journal-unread-b");
        // Every partition active first: one activated while reads fail cannot load, and refuses before writing.
        Assert.NotNull(await RetryJournal());
        HeldRowStore.LoseAcknowledgements(EventJournalGrain.OwnerPrefix);
        HeldRowStore.FailReads(EventJournalGrain.OwnerPrefix);
        try
        {
            var (status, _, body) = await Post(Event(a, "1", 1, "unread-a-1"), Event(b, "2", 1, "unread-b-1"));
            Assert.True(status == HttpStatusCode.ServiceUnavailable, body);
            Assert.True(MayHaveBeenWritten(body));
        }
        finally
        {
            HeldRowStore.StopFailing(EventJournalGrain.OwnerPrefix);
        }
        // The row is stored but no history has the events yet; the journal's next retry finds the row and finishes it.
        Assert.Empty(await Items(a));
        Assert.Equal(1, await JournalRows(a, b));
        Assert.Equal(0, await RetryJournal() ?? -1);
        Assert.Equal(["1"], await Items(a));
        Assert.Equal(["2"], await Items(b));
        Assert.Equal(0, await JournalRows(a, b));
        var (again, reply, againBody) = await Post(Event(a, "1", 1, "unread-a-1"), Event(b, "2", 1, "unread-b-1"));
        Assert.True(again == HttpStatusCode.OK, againBody);
        Assert.Equal(new IngestReply(0, 2, 2, 0), reply);
    }

    [Fact]
    public async Task A_pending_user_whose_storage_failed_gets_its_events_stored_by_the_retry()
    {
        var (victim, other) = ("journal-storage-victim", "journal-storage-other");
        Assert.Equal(HttpStatusCode.OK, (await Post(Event(victim, "41", 0))).Status);
        FailingGrainStorage.Fail(victim);
        try
        {
            var (status, reply, body) = await Post(Event(victim, "43", 1), Event(other, "44", 1));
            Assert.True(status == HttpStatusCode.Accepted, body);
            Assert.Equal(1, reply!.PendingUsers);
            Assert.Equal(1, await RetryJournal());
        }
        finally
        {
            FailingGrainStorage.StopFailing(victim);
        }
        Assert.Equal(0, await RetryJournal() ?? -1);
        Assert.Equal(["41", "43"], await StoredItems(victim));
        Assert.Equal(["41", "43"], await Items(victim));
        Assert.Equal(["44"], await StoredItems(other));
        Assert.Equal(0, await JournalRows(victim, other));
    }

    [Fact]
    public async Task An_erased_user_does_not_get_pending_events_back()
    {
        var (victim, other) = ("journal-erased-victim", "journal-erased-other");
        Assert.Equal(HttpStatusCode.OK, (await Post(Event(victim, "11", 0))).Status);
        await MakeNextWriteFail(victim);
        var (status, reply, body) = await Post(Event(victim, "13", 1), Event(other, "14", 1));
        Assert.True(status == HttpStatusCode.Accepted, body);
        Assert.Equal(1, reply!.PendingUsers);

        using (var erase = await cluster.Http.DeleteAsync($"/users/{victim}"))
            Assert.Equal(HttpStatusCode.OK, erase.StatusCode);
        Assert.Equal(0, await JournalRows(victim, other));
        Assert.Equal(0, await RetryJournal() ?? -1);
        Assert.Empty(await Items(victim));
        Assert.Equal(["14"], await Items(other));
    }

    [Fact]
    public async Task Events_taken_back_do_not_come_back_from_pending_batches()
    {
        var (victim, other) = ("journal-removed-victim", "journal-removed-other");
        Assert.Equal(HttpStatusCode.OK, (await Post(Event(victim, "11", 0))).Status);
        await MakeNextWriteFail(victim);
        var (status, reply, body) = await Post(Event(victim, "13", 1), Event(victim, "15", 2), Event(other, "13", 1));
        Assert.True(status == HttpStatusCode.Accepted, body);
        Assert.Equal(1, reply!.PendingUsers);

        // Item 13 is taken back while its event still waits in the journal: the pending batch loses it, keeps item 15.
        using (var removal = await cluster.Http.DeleteAsync($"/users/{victim}/items/13"))
            Assert.Equal(HttpStatusCode.OK, removal.StatusCode);
        Assert.Equal(0, await RetryJournal() ?? -1);
        Assert.Equal(["11", "15"], await Items(victim));
        Assert.Equal(["13"], await Items(other));
        Assert.Equal(0, await JournalRows(victim, other));
    }

    [Fact]
    public async Task A_partition_takes_over_the_batches_an_earlier_activation_left()
    {
        // As if a silo stopped between storing a batch and handing it out: the row is there, no grain has the events.
        const int partition = 1000;
        var (a, b) = ("journal-left-a", "journal-left-b");
        var time = DateTimeOffset.UnixEpoch.AddSeconds(1_700_000_000);
        var entry = new JournalEntry(
        [
            new UserEvents(a, [new UserEvent("21", EventType.View, time, "left-1"), new UserEvent("23", EventType.View, time.AddSeconds(1), "left-2")]),
            new UserEvents(b, [new UserEvent("22", EventType.View, time, "left-3")]),
        ], time);
        await Rows.WriteAsync(EventJournalGrain.OwnerPrefix + partition, [KeyValuePair.Create("left-batch", entry)]);

        Assert.Equal(0, await cluster.Cluster.Client.GetGrain<IEventJournalGrain>(partition).Retry());
        Assert.Equal(["21", "23"], await Items(a));
        Assert.Equal(["22"], await Items(b));
        Assert.Empty(await Rows.ReadAsync<JournalEntry>(EventJournalGrain.OwnerPrefix + partition));
    }

    /// <summary>The first successful answer to a GET, asked every 200 ms for up to 30 s (else the last answer).</summary>
    private async Task<HttpResponseMessage> FirstSuccess(string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var response = await cluster.Http.GetAsync(path);
            if (response.IsSuccessStatusCode || DateTime.UtcNow > deadline) return response;
            response.Dispose();
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// Sends a request through a front end of its own whose repeatable calls get one second an attempt, and measures
    /// how long the answer took.
    /// </summary>
    private async Task<(HttpStatusCode Status, string Body, TimeSpan Elapsed)> SendWithShortAttempts(Func<HttpClient, Task<HttpResponseMessage>> send)
    {
        var (api, address) = await cluster.StartFrontEndAsync(new Dictionary<string, string?> { ["Recommender:CallAttemptTimeout"] = "00:00:01" });
        await using var _ = api;
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var response = await send(http);
        var body = await response.Content.ReadAsStringAsync();
        var elapsed = clock.Elapsed;
        await api.StopAsync();
        return (response.StatusCode, body, elapsed);
    }

    private async Task<(HttpStatusCode Status, IngestReply? Reply, string Body, TimeSpan Elapsed)> PostWithShortAttempts(object @event)
    {
        var (status, body, elapsed) = await SendWithShortAttempts(http => http.PostAsJsonAsync("/events", new[] { @event }));
        return (status, status == HttpStatusCode.OK ? System.Text.Json.JsonSerializer.Deserialize<IngestReply>(body, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)) : null, body, elapsed);
    }

    [Fact]
    public async Task An_event_write_not_answered_in_time_is_sent_again_and_stored_once()
    {
        const string user = "journal-stalled-once";
        Assert.Equal(HttpStatusCode.OK, (await Post(Event(user, "31", 0, "stalled-1"))).Status);
        // The first attempt's write is held for 2.5 s: the front end withdraws it after 1 s and asks again; the repeat
        // waits behind it at the grain and finds the event stored.
        FailingGrainStorage.StallNextWrite(user, TimeSpan.FromSeconds(2.5));
        var (status, reply, body, elapsed) = await PostWithShortAttempts(Event(user, "33", 1, "stalled-2"));
        Assert.True(status == HttpStatusCode.OK, body);
        Assert.Equal(new IngestReply(0, 1, 1, 0), reply);
        Assert.True(elapsed >= TimeSpan.FromSeconds(2) && elapsed < TimeSpan.FromSeconds(20), $"answered after {elapsed}");
        Assert.Equal(["31", "33"], await StoredItems(user));
        Assert.Equal(2, (await cluster.Cluster.Client.User(user).GetHistory(null)).TotalCount);
    }

    [Fact]
    public async Task An_event_write_not_answered_in_any_attempt_is_answered_as_one_that_may_have_been_stored()
    {
        const string user = "journal-stalled-long";
        Assert.Equal(HttpStatusCode.OK, (await Post(Event(user, "31", 0, "stalled-long-1"))).Status);
        // Held longer than three attempts of 1 s: the front end gives up while the write is still going on.
        FailingGrainStorage.StallNextWrite(user, TimeSpan.FromSeconds(6));
        var (status, _, body, elapsed) = await PostWithShortAttempts(Event(user, "33", 1, "stalled-long-2"));
        Assert.True(status == HttpStatusCode.ServiceUnavailable, body);
        Assert.True(MayHaveBeenWritten(body), body);
        Assert.True(elapsed < TimeSpan.FromSeconds(6), $"answered after {elapsed}, not before the held write finished");

        // And so it was: once the held write finishes the event is there, and sending it again, as the answer asks,
        // stores nothing twice.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await StoredItems(user)).Length < 2 && DateTime.UtcNow < deadline) await Task.Delay(200);
        Assert.Equal(["31", "33"], await StoredItems(user));
        var (again, reply, againBody) = await Post(Event(user, "33", 1, "stalled-long-2"));
        Assert.True(again == HttpStatusCode.OK, againBody);
        Assert.Equal(new IngestReply(0, 1, 1, 0), reply);
        Assert.Equal(["31", "33"], await Items(user));
    }

    [Fact]
    public async Task A_batch_whose_user_does_not_answer_in_time_is_answered_as_stored_and_finished_by_the_retry()
    {
        var (slow, other) = ("journal-slow-user", "journal-slow-other");
        Assert.Equal(HttpStatusCode.OK, (await Post(Event(slow, "41", 0, "slow-1"))).Status);
        // The slow user's history write is held for 8 s; the journal waits 3 s for it, then answers.
        FailingGrainStorage.StallNextWrite(slow, TimeSpan.FromSeconds(8));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (status, reply, body) = await Post(Event(slow, "43", 1, "slow-2"), Event(other, "44", 1, "slow-3"));
        var elapsed = clock.Elapsed;
        Assert.True(status == HttpStatusCode.Accepted, body);
        Assert.Equal(new IngestReply(1, 0, 2, 1), reply);
        Assert.True(elapsed >= TimeSpan.FromSeconds(2.5) && elapsed < TimeSpan.FromSeconds(7), $"answered after {elapsed}");
        Assert.Equal(["44"], await Items(other));
        Assert.Equal(1, await JournalRows(slow, other));

        // The held write had begun, so it completes; the retry then finds the event stored and closes the batch.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await StoredItems(slow)).Length < 2 && DateTime.UtcNow < deadline) await Task.Delay(200);
        Assert.Equal(0, await RetryJournal() ?? -1);
        Assert.Equal(["41", "43"], await StoredItems(slow));
        Assert.Equal(2, (await cluster.Cluster.Client.User(slow).GetHistory(null)).TotalCount);
        Assert.Equal(0, await JournalRows(slow, other));
    }

    [Fact]
    public async Task A_batch_the_journal_does_not_answer_in_time_is_sent_again_and_stored_once()
    {
        var (a, b) = ("journal-stalled-batch-a", "journal-stalled-batch-b");
        // The first attempt's journal write is held for 4 s: the front end gives up on it after 1 s and sends the batch
        // to a partition again, which stores and hands it out at once.
        var heldWriteStored = HeldRowStore.StallNextWrite(EventJournalGrain.OwnerPrefix, TimeSpan.FromSeconds(4));
        var (status, body, elapsed) = await SendWithShortAttempts(http => http.PostAsJsonAsync("/events",
            new[] { Event(a, "51", 1, "stalled-batch-1"), Event(b, "52", 1, "stalled-batch-2") }));
        Assert.True(status == HttpStatusCode.OK, body);
        Assert.Equal(new IngestReply(2, 0, 2, 0), System.Text.Json.JsonSerializer.Deserialize<IngestReply>(body, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)));
        Assert.True(elapsed >= TimeSpan.FromSeconds(1) && elapsed < TimeSpan.FromSeconds(4), $"answered after {elapsed}, not before the held write finished");
        Assert.Equal(["51"], await Items(a));
        Assert.Equal(["52"], await Items(b));

        // The first attempt goes on: its copy of the batch is stored, handed out as repeats and closed.
        Assert.False(heldWriteStored.IsCompleted, "the held journal write was stored before the answer");
        await heldWriteStored.WaitAsync(TimeSpan.FromSeconds(30));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await JournalRows(a, b) > 0 && DateTime.UtcNow < deadline) await Task.Delay(200);
        Assert.Equal(0, await JournalRows(a, b));
        Assert.Equal(["51"], await StoredItems(a));
        Assert.Equal(["52"], await StoredItems(b));
        Assert.Equal(1, (await cluster.Cluster.Client.User(a).GetHistory(null)).TotalCount);
    }

    [Fact]
    public async Task An_event_whose_item_check_is_not_answered_is_a_503_that_says_nothing_was_written()
    {
        const string user = "journal-check-stalled";
        const string item = "journal-check-stalled-item";
        // The item is in no bucket, so the check asks its grain, whose activation reads storage: held for 6 s.
        FailingGrainStorage.StallNextRead(item, TimeSpan.FromSeconds(6));
        var (status, body, elapsed) = await SendWithShortAttempts(http => http.PostAsJsonAsync("/events", new[] { Event(user, item, 1, "check-stalled-1") }));
        Assert.True(status == HttpStatusCode.ServiceUnavailable, body);
        Assert.False(MayHaveBeenWritten(body), body);
        Assert.True(elapsed < TimeSpan.FromSeconds(6), $"answered after {elapsed}, not before the held read finished");
        Assert.Empty(await StoredItems(user));
    }

    [Fact]
    public async Task An_item_a_front_end_has_found_is_not_checked_again()
    {
        const string user = "journal-known-item-user";
        var item = "journal-known-" + Guid.NewGuid().ToString("N")[..8];
        using (var put = await cluster.Http.PutAsJsonAsync($"/items/{item}", new { title = "Known to the front end" }))
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        var (api, address) = await cluster.StartFrontEndAsync(new Dictionary<string, string?> { ["Recommender:CallAttemptTimeout"] = "00:00:01" });
        await using (api)
        {
            using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
            using (var first = await http.PostAsJsonAsync("/events", new[] { Event(user, item, 1, "known-1") }))
                Assert.True(first.IsSuccessStatusCode, await first.Content.ReadAsStringAsync());

            // The item's grain now cannot answer for 6 s: this front end does not need it, another one does.
            await cluster.Cluster.Client.GetGrain<IItemGrain>(item).AsReference<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle();
            FailingGrainStorage.StallNextRead(item, TimeSpan.FromSeconds(6));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using (var second = await http.PostAsJsonAsync("/events", new[] { Event(user, item, 2, "known-2") }))
                Assert.True(second.IsSuccessStatusCode, await second.Content.ReadAsStringAsync());
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"answered after {clock.Elapsed}");
            await api.StopAsync();
        }
        var (status, body, _) = await SendWithShortAttempts(http => http.PostAsJsonAsync("/events", new[] { Event(user, item, 3, "known-3") }));
        Assert.True(status == HttpStatusCode.ServiceUnavailable, body);
        Assert.False(MayHaveBeenWritten(body), body);
        Assert.Equal([item, item], await StoredItems(user));
    }

    [Fact]
    public async Task A_scenario_is_served_only_once_stored_and_one_that_cannot_be_stored_is_not_kept()
    {
        async Task<bool> Listed(string name) =>
            (await cluster.Http.GetStringAsync("/scenarios")).Contains($"\"name\":\"{name}\"", StringComparison.Ordinal);
        async Task<HttpResponseMessage> Put(string name) => await cluster.Http.PutAsJsonAsync($"/scenarios/{name}", new { cap = new[] { "Drama:1" } });
        // A put while the scenarios' storage misbehaves as fault makes it; what it was answered.
        async Task<HttpStatusCode> PutDuring(Action<string> fault, string name)
        {
            fault(ScenarioNames.GrainKey);
            try
            {
                using var response = await Put(name);
                return response.StatusCode;
            }
            finally
            {
                FailingGrainStorage.StopFailing(ScenarioNames.GrainKey);
            }
        }

        // While its write is held, reads get the set as stored before it: no list is read under rules that may not be kept.
        var held = "held-" + Guid.NewGuid().ToString("N");
        FailingGrainStorage.StallNextWrite(ScenarioNames.GrainKey, TimeSpan.FromSeconds(3));
        var writing = Put(held);
        await Task.Delay(1000);
        Assert.False(writing.IsCompleted);
        Assert.False(await Listed(held));
        using (var refused = await cluster.Http.GetAsync($"/users/5/recommendations?scenario={held}"))
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        using (var stored = await writing) Assert.True(stored.IsSuccessStatusCode, await stored.Content.ReadAsStringAsync());
        Assert.True(await Listed(held));

        // A write the database refuses is a 503 that keeps nothing, in memory either.
        var failing = "failing-" + Guid.NewGuid().ToString("N");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await PutDuring(FailingGrainStorage.Fail, failing));
        Assert.False(await Listed(failing));
        Assert.True(await Listed(held));
        // Nor does the next write store it along with its own.
        var next = "next-" + Guid.NewGuid().ToString("N");
        using (var stored = await Put(next)) Assert.True(stored.IsSuccessStatusCode, await stored.Content.ReadAsStringAsync());
        Assert.False(await Listed(failing));

        // A write stored whose answer was lost is a 503 too, and then the grain holds what storage does: the scenario,
        // and the version to write over next.
        var lost = "lost-" + Guid.NewGuid().ToString("N");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await PutDuring(FailingGrainStorage.LoseAcknowledgements, lost));
        Assert.True(await Listed(lost));
        using (var again = await Put(failing)) Assert.True(again.IsSuccessStatusCode, await again.Content.ReadAsStringAsync());
        Assert.True(await Listed(failing) && await Listed(lost) && await Listed(next) && await Listed(held));
    }

    [Fact]
    public async Task An_item_write_not_answered_in_any_attempt_may_have_been_stored_and_is_stored_once_sent_again()
    {
        var item = "journal-slow-item-" + Guid.NewGuid().ToString("N")[..8];
        // Held longer than three attempts of 1 s: the front end gives up while the item's write is still going on.
        var held = TimeSpan.FromSeconds(6);
        FailingGrainStorage.StallNextWrite(item, held);
        var sent = Stopwatch.StartNew();
        var (status, body, elapsed) = await SendWithShortAttempts(http => http.PutAsJsonAsync($"/items/{item}", new { title = "Written slowly" }));
        Assert.True(status == HttpStatusCode.ServiceUnavailable, body);
        Assert.True(MayHaveBeenWritten(body), body);
        Assert.True(elapsed < held, $"answered after {elapsed}, not before the held write finished");

        // On a loaded machine the first attempt may still be encoding the item's text when it is given up: it then ends
        // before writing, as every attempt given up does, and nothing is stored (the answer said it may have been). Once
        // a withdrawal has surely arrived, a write that has not begun will not; sent again, the item is stored once.
        await Task.Delay(TimeSpan.FromSeconds(2));
        if (FailingGrainStorage.WriteStallPending(item))
        {
            FailingGrainStorage.StopFailing(item);
            Assert.Equal(0, FailingGrainStorage.Writes(item));
            using (var missing = await cluster.Http.GetAsync($"/items/{item}")) Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            using var sentAgain = await cluster.Http.PutAsJsonAsync($"/items/{item}", new { title = "Written slowly" });
            Assert.True(sentAgain.IsSuccessStatusCode, await sentAgain.Content.ReadAsStringAsync());
            Assert.Equal(1, FailingGrainStorage.Writes(item));
            return;
        }

        // And so it was; sending it again replaces it with the same item.
        using var read = await FirstSuccess($"/items/{item}");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        // The second and third attempts waited behind the held write and were withdrawn when given up: once it has
        // finished (later than the hold on a loaded machine), and time enough has passed for anything queued behind it
        // to run, the item was written once.
        var settled = held - sent.Elapsed;
        if (settled > TimeSpan.Zero) await Task.Delay(settled);
        for (var waited = Stopwatch.StartNew(); FailingGrainStorage.Writes(item) == 0 && waited.Elapsed < TimeSpan.FromSeconds(30);)
            await Task.Delay(50);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(1, FailingGrainStorage.Writes(item));
        using var again = await cluster.Http.PutAsJsonAsync($"/items/{item}", new { title = "Written slowly" });
        Assert.True(again.IsSuccessStatusCode, await again.Content.ReadAsStringAsync());
        Assert.Equal(2, FailingGrainStorage.Writes(item));
        Assert.Contains("Written slowly", await (await cluster.Http.GetAsync($"/items/{item}")).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_item_read_not_answered_in_any_attempt_is_a_503_within_the_attempts()
    {
        var item = "journal-slow-read-item-" + Guid.NewGuid().ToString("N")[..8];
        using (var put = await cluster.Http.PutAsJsonAsync($"/items/{item}", new { title = "Read slowly" }))
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        // The item's next activation reads its stored state, held here for 6 s.
        await cluster.Cluster.Client.GetGrain<IItemGrain>(item).AsReference<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle();
        FailingGrainStorage.StallNextRead(item, TimeSpan.FromSeconds(6));
        var (status, body, elapsed) = await SendWithShortAttempts(http => http.GetAsync($"/items/{item}"));
        Assert.True(status == HttpStatusCode.ServiceUnavailable, body);
        Assert.False(MayHaveBeenWritten(body), body);
        Assert.True(elapsed < TimeSpan.FromSeconds(6), $"answered after {elapsed}, not before the held read finished");
        using var read = await FirstSuccess($"/items/{item}");
        Assert.Contains("Read slowly", await read.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_read_not_answered_in_any_attempt_is_a_503_within_the_attempts_and_writes_nothing()
    {
        const string user = "journal-stalled-read";
        // The user's grain is not active: its activation reads the stored state, held here for 6 s.
        FailingGrainStorage.StallNextRead(user, TimeSpan.FromSeconds(6));
        var (status, body, elapsed) = await SendWithShortAttempts(http => http.GetAsync($"/users/{user}/history"));
        Assert.True(status == HttpStatusCode.ServiceUnavailable, body);
        Assert.False(MayHaveBeenWritten(body));
        Assert.True(elapsed < TimeSpan.FromSeconds(6), $"answered after {elapsed}, not before the held read finished");
        // Once the read has gone through, the grain answers as usual.
        using var response = await FirstSuccess($"/users/{user}/history");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await Items(user));
    }
}
