namespace Recommender.Abstractions;

/// <summary>
/// The grain keys of user and item ids. Orleans' ADO.NET grain storage files a key that reads as a hexadecimal integer
/// or a GUID as that number, so "7" and "007", or "ab" and "AB", would share one stored state. An id that is not the
/// one spelling of its number (or could be confused with another key in the storage columns), any id that starts
/// with '~' and any id with a brace is keyed with a leading '~', which no number has: every id gets a state of its own,
/// while plain names and numbers written without leading zeros keep the key they always had.
/// </summary>
public static class GrainKeys
{
    private const char Escape = '~';
    private static readonly GrainType AnyType = GrainType.Create("key");

    public static IUserGrain User(this IGrainFactory grains, string userId) => grains.GetGrain<IUserGrain>(Encode(userId));

    public static IItemGrain Item(this IGrainFactory grains, string itemId) => grains.GetGrain<IItemGrain>(Encode(itemId));

    /// <summary>The id of a user or item grain (its key without the escape).</summary>
    public static string IdOf(IAddressable grain) => Decode(grain.GetPrimaryKeyString());

    public static string Encode(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return id[0] == Escape || id.AsSpan().IndexOfAny('{', '}') >= 0 || !StoredAsItself(id) ? Escape + Hide(id) : id;
    }

    // Every '%' of an escaped key starts one of the three escapes (a '%' of the id itself became %25), so unescaping the
    // URL way gives the id back.
    public static string Decode(string key) => key.Length > 0 && key[0] == Escape ? Uri.UnescapeDataString(key[1..]) : key;

    // The storage puts a key into a composite format string, where a brace is not literal (and the write fails after
    // it is done): escaped keys spell '{', '}' and '%' as %7B, %7D and %25.
    private static string Hide(string id) => id.Replace("%", "%25").Replace("{", "%7B").Replace("}", "%7D");

    // True when the storage keeps the id as a string, or as a number of which the id is the one canonical spelling.
    private static bool StoredAsItself(string id)
    {
        var grainId = GrainId.Create(AnyType, id);
        if (grainId.TryGetGuidKey(out var guid, out var guidExtension))
            // A GUID whose first half is zero lands in the columns of an integer key.
            return guidExtension is not "" && BitConverter.ToInt64(guid.ToByteArray(), 0) != 0 && id == guid.ToString("N") + Suffix(guidExtension);
        if (grainId.TryGetIntegerKey(out var number, out var extension))
            // Number 0 with an extension lands in the columns of the string key equal to that extension.
            return extension is not "" && !(number == 0 && extension is not null)
                && id == number.ToString("X", System.Globalization.CultureInfo.InvariantCulture) + Suffix(extension);
        return true;
    }

    private static string Suffix(string? extension) => extension is null ? "" : "+" + extension;
}
