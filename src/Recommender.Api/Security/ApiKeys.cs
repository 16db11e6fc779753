using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Recommender.Api.Security;

/// <summary>What a key may do: a client key serves an application (events, recommendations, catalogue); an admin key
/// may also manage models, export every user's events and erase users.</summary>
public enum ApiRole
{
    Client,
    Admin,
}

/// <summary>A configured key: its role, and its place among the keys of that role (1 = the first), which names it in logs and answers without revealing it.</summary>
public sealed record ApiKey(ApiRole Role, int Number)
{
    public override string ToString() => $"{Role.ToString().ToLowerInvariant()} key {Number}";
}

/// <summary>
/// The API keys of <c>Recommender:ApiKeys</c> (<c>Admin</c> and <c>Client</c>, each a list or one comma-separated
/// value), kept only as SHA-256 digests. With none configured every endpoint is open, as on a developer's machine; a
/// setting that is present but empty is an error, so that an unset variable behind it cannot open a node by accident.
/// </summary>
public sealed class ApiKeys
{
    public const string Section = "Recommender:ApiKeys";
    public const int MinLength = 16;
    public const int MaxLength = 256;

    private readonly (byte[] Digest, ApiKey Key)[] _keys;

    private ApiKeys((byte[] Digest, ApiKey Key)[] keys, int admin, int client)
    {
        _keys = keys;
        AdminCount = admin;
        ClientCount = client;
    }

    public int AdminCount { get; }

    public int ClientCount { get; }

    /// <summary>False when no key is configured: every endpoint is then open.</summary>
    public bool Enabled => _keys.Length > 0;

    /// <summary>The configured key <paramref name="presented"/> is, or null when it is none.</summary>
    public ApiKey? Find(string presented)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        ApiKey? found = null;
        // Every digest is compared, in constant time, so the answer's timing does not tell which key came close.
        foreach (var (stored, key) in _keys)
            if (CryptographicOperations.FixedTimeEquals(stored, digest)) found = key;
        return found;
    }

    /// <summary>Reads and checks the keys; a bad configuration throws an <see cref="OptionsValidationException"/> naming it.</summary>
    public static ApiKeys FromConfiguration(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var errors = new List<string>();
        SettingValues.RejectUnknown(section, [nameof(ApiRole.Admin), nameof(ApiRole.Client)], errors);
        if (section.Value is { Length: > 0 })
            errors.Add($"{Section} takes its keys under {Section}:Admin and {Section}:Client, not as a value of its own.");
        var admin = Read(section, ApiRole.Admin, errors);
        var client = Read(section, ApiRole.Client, errors);
        for (var i = 0; i < client.Count; i++)
            if (admin.Contains(client[i], StringComparer.Ordinal))
                errors.Add($"Key {i + 1} of {Section}:Client is in {Section}:Admin too; give each key one role.");
        if (client.Count > 0 && admin.Count == 0)
            errors.Add($"{Section}:Client is set but {Section}:Admin is empty: model management, the event export and erasure would be unreachable. Add an admin key.");
        if (errors.Count > 0) throw new OptionsValidationException(Section, typeof(ApiKeys), errors);

        var keys = admin.Select((k, i) => (SHA256.HashData(Encoding.UTF8.GetBytes(k)), new ApiKey(ApiRole.Admin, i + 1)))
            .Concat(client.Select((k, i) => (SHA256.HashData(Encoding.UTF8.GetBytes(k)), new ApiKey(ApiRole.Client, i + 1))))
            .ToArray();
        return new ApiKeys(keys, admin.Count, client.Count);
    }

    private static List<string> Read(IConfigurationSection parent, ApiRole role, List<string> errors)
    {
        var name = $"{Section}:{role}";
        var values = SettingValues.ReadList(parent.GetSection(role.ToString()), errors);
        var keys = new List<string>();
        for (var i = 0; i < values.Count; i++)
        {
            var key = values[i];
            var which = values.Count == 1 ? $"The key in {name}" : $"Key {i + 1} of {name}";
            if (key.Length == 0)
                errors.Add($"{which} is empty: give a key of {MinLength} to {MaxLength} characters, or remove the setting to run without keys.");
            else if (key.Length is < MinLength or > MaxLength)
                errors.Add($"{which} has {key.Length} characters; a key has {MinLength} to {MaxLength} (for example: openssl rand -hex 32).");
            else if (key.Any(c => c is <= ' ' or > '~' or ','))
                errors.Add($"{which} holds a character other than printable ASCII (spaces and commas are not allowed either): keys travel in an HTTP header.");
            else if (keys.Contains(key, StringComparer.Ordinal))
                errors.Add($"{which} is given twice.");
            else
                keys.Add(key);
        }
        return keys;
    }
}
