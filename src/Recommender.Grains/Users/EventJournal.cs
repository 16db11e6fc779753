using Microsoft.Extensions.Logging;
using Recommender.Abstractions;
using Recommender.Grains.Inference;

namespace Recommender.Grains.Users;

/// <summary>A stored batch: the users whose events are not yet known to be in their histories.</summary>
[GenerateSerializer, Immutable, Alias("recommender.journal-entry")]
public sealed record JournalEntry([property: Id(0)] UserEvents[] Users, [property: Id(1)] DateTimeOffset Received);

/// <summary>
/// Makes a batch for several users all-or-nothing. The whole batch is written as one row before any user's history
/// is, so a failed write leaves nothing written; after it, a user whose history could not take the events is retried
/// from the row until it does. The events keep their ids, so a retry of a write that did land counts as a repeat.
/// A row is deleted once every user of it has the events. A hand-out waits at most <paramref name="handOutTimeout"/>:
/// a user whose grain has not answered by then (its silo may be lost) is withdrawn and left to the retries, so that the
/// caller hears within that time that the batch is stored.
/// </summary>
public sealed class EventJournal(
    string owner,
    IGrainRowStore rows,
    Func<string, UserEvent[], CancellationToken, Task<IngestResult>> deliver,
    TimeSpan handOutTimeout,
    TimeProvider clock,
    ServingMetrics metrics,
    ILogger logger)
{
    // Batches not yet complete, by row key: the users still to be written. Calls interleave, but never run in parallel.
    private readonly Dictionary<string, OpenBatch> _open = new(StringComparer.Ordinal);
    private readonly HashSet<string> _handingOut = new(StringComparer.Ordinal);
    private Task<int>? _retry;
    // Batches being written now: stored rows a retry must not take over, since their ingest goes on with them.
    private readonly HashSet<string> _writing = new(StringComparer.Ordinal);
    // Set when a batch's write failed and could not be checked: it may be stored, and the next retry looks for it.
    private bool _mayHaveUnknownRows;

    /// <summary>Batches with users still to be written, not counting those being handed out now.</summary>
    public int Pending => _open.Keys.Count(k => !_handingOut.Contains(k));

    /// <summary>Takes over the rows an earlier activation left (it stopped between storing a batch and finishing it).</summary>
    public async Task LoadAsync(CancellationToken cancellation)
    {
        var taken = await TakeOverStoredAsync(cancellation);
        if (taken > 0) logger.LogInformation("Event journal {Owner} took over {Count} unfinished batches", owner, taken);
    }

    public async Task<BatchIngestResult> IngestAsync(UserEvents[] batch)
    {
        var key = Guid.NewGuid().ToString("N");
        var received = clock.GetUtcNow();
        _writing.Add(key);
        try
        {
            await rows.WriteAsync(owner, [KeyValuePair.Create(key, new JournalEntry(batch, received))]);
        }
        catch (Exception e)
        {
            // A connection lost just after the database committed fails a write that is stored: look for the row.
            // Found, the batch goes on as stored; not readable, the next retry looks again, so that a stored batch
            // is never left behind (its caller was told it may have been written).
            var stored = await IsStoredAsync(key);
            if (stored is not true)
            {
                _writing.Remove(key);
                if (stored is null) _mayHaveUnknownRows = true;
                throw;
            }
            logger.LogWarning(e, "Event journal {Owner}: writing batch {Key} reported a failure but it was stored; it goes on", owner, key);
        }
        _open[key] = new OpenBatch([.. batch], received);
        _writing.Remove(key);
        return await HandOutAsync(key);
    }

    /// <summary>Whether the row is stored; null when storage cannot be read.</summary>
    private async Task<bool?> IsStoredAsync(string key)
    {
        try
        {
            return (await rows.ReadAsync<JournalEntry>(owner)).Any(row => row.Key == key);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Event journal {Owner}: could not read back batch {Key} after a failed write; the next retry looks for it", owner, key);
            return null;
        }
    }

    /// <summary>After a write that failed and could not be checked, opens whatever it may have stored.</summary>
    private async Task FindUnknownRowsAsync()
    {
        if (!_mayHaveUnknownRows) return;
        // Cleared first: a write failing while this runs sets it again.
        _mayHaveUnknownRows = false;
        try
        {
            var found = await TakeOverStoredAsync(CancellationToken.None);
            if (found > 0) logger.LogInformation("Event journal {Owner} found {Count} batches stored by writes that reported a failure", owner, found);
        }
        catch
        {
            _mayHaveUnknownRows = true;
            throw;
        }
    }

    /// <summary>Opens the stored batches this journal does not hold yet; returns how many.</summary>
    private async Task<int> TakeOverStoredAsync(CancellationToken cancellation)
    {
        var taken = 0;
        foreach (var (key, entry) in await rows.ReadAsync<JournalEntry>(owner, cancellation))
        {
            if (_open.ContainsKey(key) || _writing.Contains(key)) continue;
            _open[key] = new OpenBatch([.. entry.Users], entry.Received) { Pending = true };
            taken++;
        }
        metrics.JournalPending(taken);
        return taken;
    }

    /// <summary>Hands every pending batch out again, one at a time; a call during a retry waits for it.</summary>
    public Task<int> RetryAsync()
    {
        if (_retry is { IsCompleted: false }) return _retry;
        return _retry = RetryPendingAsync();
    }

    private async Task<int> RetryPendingAsync()
    {
        try
        {
            await FindUnknownRowsAsync();
        }
        catch (Exception e)
        {
            // Still flagged: the next retry looks again. The batches already known go on meanwhile.
            logger.LogWarning(e, "Event journal {Owner} could not look for batches stored by failed writes; it looks again on the next retry", owner);
        }
        foreach (var key in _open.Keys.Where(k => !_handingOut.Contains(k)).ToArray())
        {
            // Forget may have closed it meanwhile.
            if (!_open.ContainsKey(key)) continue;
            var result = await HandOutAsync(key);
            metrics.JournalRetried(result.Accepted);
            if (result.PendingUsers == 0) logger.LogInformation("Event journal {Owner} completed batch {Key}", owner, key);
        }
        return Pending;
    }

    /// <summary>
    /// Removes the user from every open batch (only the events <paramref name="removal"/> names, when given) and stores
    /// that: an erased user's events, or events taken back, must not come back.
    /// </summary>
    public async Task ForgetAsync(string userId, EventRemoval? removal = null)
    {
        // A batch whose write may have been stored must be open here too, or its events could come back later.
        await FindUnknownRowsAsync();
        foreach (var (key, batch) in _open.ToArray())
        {
            var removed = batch.Users.Where(u => u.UserId == userId).ToArray();
            if (removed.Length == 0) continue;
            // What stays of the user's events: none for an erasure.
            var kept = removal is null ? [] : removed
                .Select(u => u with { Events = [.. u.Events.Where(e => !removal.Matches(e.ItemId, e.Type, e.EventId))] })
                .Where(u => u.Events.Length > 0).ToArray();
            if (removal is not null && kept.Sum(u => u.Events.Length) == removed.Sum(u => u.Events.Length)) continue;
            // Out of memory first, so that a hand-out finishing meanwhile stores the batch without the user too.
            batch.Users.RemoveAll(u => u.UserId == userId);
            batch.Users.AddRange(kept);
            try
            {
                await StoreAsync(key, batch);
            }
            catch
            {
                // Not stored: the user's events stay pending as they were, and the erasure fails and is retried.
                batch.Users.RemoveAll(u => u.UserId == userId);
                batch.Users.AddRange(removed);
                throw;
            }
            if (batch.Users.Count == 0 && !_handingOut.Contains(key)) Close(key);
        }
    }

    private async Task<BatchIngestResult> HandOutAsync(string key)
    {
        _handingOut.Add(key);
        try
        {
            var users = _open[key].Users.ToArray();
            using var deadline = new CancellationTokenSource(handOutTimeout, clock);
            var outcomes = await Task.WhenAll(users.Select(user => DeliverAsync(user, deadline.Token)));
            var written = users.Where((_, i) => outcomes[i] is not null).Select(u => u.UserId).ToHashSet(StringComparer.Ordinal);
            // The open list, not the copy: Forget may have removed users while the events were handed out.
            var batch = _open[key];
            var remaining = batch.Users;
            var before = remaining.Count;
            remaining.RemoveAll(u => written.Contains(u.UserId));
            // An empty batch is deleted even when nothing changed now: an earlier delete may have failed.
            if (remaining.Count < before || remaining.Count == 0)
            {
                try
                {
                    await StoreAsync(key, batch);
                    if (remaining.Count == 0) Close(key);
                }
                catch (Exception e)
                {
                    // The row still lists users that have their events: a later retry repeats them, which is harmless.
                    logger.LogWarning(e, "Event journal {Owner} could not update batch {Key}; it is retried", owner, key);
                }
            }
            if (remaining.Count > 0 && !batch.Pending)
            {
                batch.Pending = true;
                metrics.JournalPending(1);
            }
            return new BatchIngestResult(
                outcomes.Sum(o => o?.Accepted ?? 0), outcomes.Sum(o => o?.Duplicates ?? 0), remaining.Count, remaining.Sum(u => u.Events.Length));
        }
        finally
        {
            _handingOut.Remove(key);
        }
    }

    private async Task<IngestResult?> DeliverAsync(UserEvents user, CancellationToken deadline)
    {
        try
        {
            return await deliver(user.UserId, user.Events, deadline);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // A write that had begun still completes; the retry then finds the events stored and counts them as repeats.
            logger.LogWarning("Event journal {Owner}: user {UserId} did not take {Count} events within {Timeout}; they stay journalled and are retried",
                owner, user.UserId, user.Events.Length, handOutTimeout);
            return null;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Event journal {Owner}: user {UserId} did not take {Count} events; they stay journalled and are retried", owner, user.UserId, user.Events.Length);
            return null;
        }
    }

    private Task StoreAsync(string key, OpenBatch batch) => batch.Users.Count == 0
        ? rows.DeleteAsync(owner, [key])
        : rows.WriteAsync(owner, [KeyValuePair.Create(key, new JournalEntry([.. batch.Users], batch.Received))]);

    /// <summary>The grain is deactivating: its pending batches stay stored, for the next activation to take over.</summary>
    public void Release() => metrics.JournalPending(-_open.Values.Count(b => b.Pending));

    private void Close(string key)
    {
        if (_open.Remove(key, out var batch) && batch.Pending) metrics.JournalPending(-1);
    }

    private sealed record OpenBatch(List<UserEvents> Users, DateTimeOffset Received)
    {
        /// <summary>Counted as pending: a hand-out left users to retry, or an earlier activation left the batch.</summary>
        public bool Pending { get; set; }
    }
}
