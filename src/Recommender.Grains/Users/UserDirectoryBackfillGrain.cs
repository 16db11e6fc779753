using Microsoft.Extensions.Logging;
using Recommender.Abstractions;

namespace Recommender.Grains.Users;

/// <summary>
/// Completes the user directory from grain storage: every stored user history whose user the directory does not list
/// (users stored before the directory existed, or by any other path) is added, under an id that reads that same
/// stored history. Runs before every export, so an export covers every stored history. One activation (key 0), so
/// concurrent exports do not repeat the scan side by side.
/// </summary>
public sealed class UserDirectoryBackfillGrain(IStoredUsers stored, ILogger<UserDirectoryBackfillGrain> logger) : Grain, IUserDirectoryBackfillGrain
{
    public async Task<int> Backfill()
    {
        var partitions = Enumerable.Range(0, Partitions.UserDirectory).Select(p => GrainFactory.GetGrain<IUserDirectoryGrain>(p)).ToArray();
        var listed = await Task.WhenAll(partitions.Select(p => p.List()));
        var known = listed.SelectMany(l => l.Value).Select(StoredGrainKey.Of).ToHashSet();
        var missing = new List<string>[partitions.Length];
        for (var p = 0; p < missing.Length; p++) missing[p] = [];
        var added = 0;
        foreach (var key in await stored.ListAsync(CancellationToken.None))
        {
            if (known.Contains(key) || key.ToId() is not { } userId) continue;
            missing[Partitions.Of(userId, Partitions.UserDirectory)].Add(userId);
            added++;
        }
        if (added == 0) return 0;
        await Task.WhenAll(missing.Select((ids, p) => ids.Count == 0 ? Task.CompletedTask : partitions[p].AddRange(new Immutable<string[]>([.. ids]))));
        logger.LogInformation("{Count} users with stored history added to the user directory", added);
        return added;
    }
}
