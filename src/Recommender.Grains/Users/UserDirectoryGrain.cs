using Recommender.Abstractions;

namespace Recommender.Grains.Users;

[GenerateSerializer, Alias("recommender.user-directory-state")]
public sealed class UserDirectoryState
{
    [Id(0)] public HashSet<string> Users { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>One partition of the set of users with events; written once per user, on the first event.</summary>
public sealed class UserDirectoryGrain([PersistentState("user-directory")] IPersistentState<UserDirectoryState> state) : Grain, IUserDirectoryGrain
{
    public async Task Add(string userId)
    {
        if (!state.State.Users.Add(userId)) return;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State.Users.Remove(userId);
            throw;
        }
    }

    public async Task AddRange(Immutable<string[]> userIds)
    {
        var added = userIds.Value.Where(state.State.Users.Add).ToArray();
        if (added.Length == 0) return;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State.Users.ExceptWith(added);
            throw;
        }
    }

    public async Task Remove(string userId)
    {
        if (!state.State.Users.Remove(userId)) return;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State.Users.Add(userId);
            throw;
        }
    }

    public Task<Immutable<string[]>> List() => Task.FromResult(new Immutable<string[]>(state.State.Users.Order(StringComparer.Ordinal).ToArray()));
}
