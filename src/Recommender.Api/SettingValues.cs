namespace Recommender.Api;

/// <summary>How the front end's own settings sections are read: no key the section does not define, and lists given one way.</summary>
public static class SettingValues
{
    /// <summary>Adds an error for every key under <paramref name="section"/> that is not one of <paramref name="settings"/> (a misspelt key would be ignored).</summary>
    public static void RejectUnknown(IConfigurationSection section, IReadOnlyList<string> settings, List<string> errors)
    {
        var names = settings.Select(s => $"{section.Path}:{s}").ToArray();
        var known = names.Length == 1 ? $"the setting is {names[0]}" : $"the settings are {string.Join(", ", names[..^1])} and {names[^1]}";
        foreach (var child in section.GetChildren())
            if (!settings.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                errors.Add($"{section.Path}:{child.Key} is not a setting; {known}.");
    }

    /// <summary>
    /// A list setting: one value is a comma-separated list (an environment variable such as Recommender__ApiKeys__Admin=k1,k2),
    /// children are a list (Recommender__ApiKeys__Admin__0=k1, or a JSON array). Both at once is an error, and no values.
    /// </summary>
    public static List<string> ReadList(IConfigurationSection section, List<string> errors)
    {
        var children = section.GetChildren().Select(c => c.Value ?? "").ToList();
        if (section.Value is not null && children.Count > 0)
        {
            errors.Add($"{section.Path} is given both as one value and as a list (say, an environment variable and appsettings.json): give it one way, "
                + "so that a value replaced in one place does not stay in force from the other.");
            return [];
        }
        return section.Value is { } single ? [.. single.Split(',', StringSplitOptions.TrimEntries)] : children;
    }
}
