using System.Globalization;

namespace Recommender.Model.Data;

/// <summary>Orders external ids numerically when both are integers ("2" before "10"), else ordinally; integers first.</summary>
public sealed class ExternalIdComparer : IComparer<string>
{
    public static readonly ExternalIdComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        var xNumber = long.TryParse(x, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var a);
        var yNumber = long.TryParse(y, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var b);
        if (xNumber && yNumber) return a != b ? a.CompareTo(b) : string.CompareOrdinal(x, y);
        if (xNumber != yNumber) return xNumber ? -1 : 1;
        return string.CompareOrdinal(x, y);
    }
}
