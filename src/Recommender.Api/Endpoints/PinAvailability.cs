using System.Collections.Concurrent;
using Recommender.Abstractions;

namespace Recommender.Api.Endpoints;

/// <summary>
/// An answer's unplaced pins, each pinned item that is not available told apart from the item itself: hidden, not
/// available before a time, or expired at one (the shards keep one set of rows no scan returns, whatever the cause).
/// One per request (a scoped service): a batch of users' lists reads each such item once.
/// </summary>
public sealed class PinAvailability(IGrainFactory grains, FrontEndOptions options, ILogger<PinAvailability> logger)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<ItemDetails?>>> _items = new(StringComparer.Ordinal);

    public async Task<IReadOnlyList<UnplacedPinResponse>?> DescribeAsync(IReadOnlyList<UnplacedPin>? unplaced, CancellationToken cancellation)
    {
        if (unplaced is null) return null;
        var described = new UnplacedPinResponse[unplaced.Count];
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < unplaced.Count; i++)
        {
            var pin = unplaced[i];
            described[i] = new UnplacedPinResponse(pin.ItemId, pin.Position, pin.Reason);
            if (pin.Reason != PinRefusal.Unavailable) continue;
            var item = await _items.GetOrAdd(pin.ItemId, id => new(() => ReadAsync(id, cancellation))).Value;
            if (item is null) continue;
            described[i] = described[i] with
            {
                Hidden = item.Hidden ? true : null,
                AvailableFrom = item.AvailableFrom > now ? item.AvailableFrom : null,
                ExpiredAt = item.ExpiresAt <= now ? item.ExpiresAt : null,
            };
        }
        return described;
    }

    // The list is the answer: an item that cannot be read in time leaves its pin's reason without the detail.
    private async Task<ItemDetails?> ReadAsync(string itemId, CancellationToken cancellation)
    {
        try
        {
            return (await ClusterRetry.RepeatAsync(() => grains.Item(itemId).Get(), options.CallAttemptTimeout, cancellation))?.Details;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellation.IsCancellationRequested)
        {
            logger.LogWarning(e, "Could not read pinned item {ItemId} to say why it is unavailable", itemId);
            return null;
        }
    }
}
