using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Recommender.Cluster.Tests.Infrastructure;

namespace Recommender.Cluster.Tests.Api;

/// <summary>
/// A request as <see cref="RequestMutator"/> builds it, with the reads whose answers a refusal of it must leave as they
/// were (the histories of the users and the items it could write, the models).
/// </summary>
public sealed record MutatedRequest(
    HttpMethod Method, string Path, byte[]? Body, string? ContentType, string? IdempotencyKey, IReadOnlyList<string> UnchangedIfRefused)
{
    public override string ToString()
    {
        var body = Body is null ? "" : " " + Encoding.UTF8.GetString(Body, 0, Math.Min(Body.Length, 400));
        var key = IdempotencyKey is null ? "" : $" (Idempotency-Key '{IdempotencyKey}')";
        return $"{Method} {Path} [{ContentType}]{key}{body}";
    }
}

/// <summary>
/// Builds valid requests for every operation of the API and changes them the way a faulty client would: every field of
/// every write given every value of <see cref="OddValues"/>, left out or renamed (<see cref="EveryFieldChange"/>); and
/// at random (<see cref="Next"/>), changes nested deeper, arrays emptied or repeated past their limit, bodies cut short,
/// a byte changed, a key sent twice, another content type, odd ids, query parameters and methods. Every write names
/// users and items of its own, so a refusal can be checked to have left them unwritten. Seeded: a failure reproduces.
/// </summary>
public sealed class RequestMutator(int seed, string prefix, int embeddingDimension)
{
    private readonly Random _random = new(seed);
    private int _serial;

    private static readonly string[] OddStrings =
    [
        "", " ", "\u0000", "\u001b[31m", "\u2028", "\u200b", "\t", "..", ".", "/", "\\", "\"", "{}", "007", "-1", "NaN", "Infinity",
        "null", "true", "💥", "A\u0301", "' OR 1=1 --", "<script>", "2026-13-45T99:99:99Z", "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z", "2026-11-27T10:00:00+25:00", "1767607200", new string('a', 257), new string('a', 70_000),
    ];

    /// <summary>Values a field is given in place of its own, as the JSON text sent.</summary>
    public static readonly IReadOnlyList<string> OddValues =
    [
        "null", "true", "false", "0", "-1", "1", "6", "1000", "1001", "2147483648", "-9223372036854775808", "9223372036854775807",
        "9007199254740993", "99999999999999999999999", "1e400", "-1e400", "1e-400", "-0", "1.5", "1.7976931348623157e308",
        "\"\\ud800\"", "[]", "{}", "[null]", "[1,\"a\",null]", "{\"id\":null}", new string('[', 200) + new string(']', 200),
        .. OddStrings.Select(s => JsonSerializer.Serialize(s)),
    ];

    private static readonly string[] OddPathIds =
    [
        "%2F", "a%2Fb", "%2E%2E", "%2E", "%E2%80%A8", "%FF", "%C0%AF", "%20", "%25", "~", "-", "1;2", "1%3F", "%7B%7D",
        "%F0%9F%92%A5", new string('x', 257), "%E2%80%8B",
    ];

    private static readonly string[] QueryNames =
        ["k", "K", "includeSeen", "exclude", "excludeId", "tag", "explain", "exlude", "k[]", "", "%20k", "boost", "BOOST", "cap", "capEach", "scenario"];

    private static readonly string[] QueryValues =
        ["", "-1", "0", "1", "10", "1000", "1001", "abc", "1e3", "99999999999999999999", "true", "maybe", "%FF", "a,b,,c",
         "1.5", "%2C", "%20", "%E2%80%A8", new string('x', 2000), "drama:2", "a:b:0.5", "x:0", ":1", "x:NaN", "x:1e400", "%3A", "drama:1", "x:1001", "x:-1", "*:2"];

    private static readonly string?[] OddContentTypes =
    [
        null, "text/plain", "application/json; charset=latin1", "application/json; charset=utf-16",
        "application/x-www-form-urlencoded", "multipart/form-data", "application/json;;;", "*/*", "application/xml",
    ];

    private static readonly string[] OddIdempotencyKeys = ["", " ", "\"q\"", "\"", "a b", new string('k', 256), "k-1"];

    private const string Placeholder = "@odd@";

    private sealed record Write(HttpMethod Method, string Path, JsonNode Body, JsonObject Changed, IReadOnlyList<string> Reads);

    /// <summary>
    /// The writes with one field changed: each field of a single event, of the second event of a batch, of an item
    /// written alone and of the second item of a batch, and of an item's change alone and second in a batch (the first
    /// tags and embedding values included), given each of
    /// <see cref="OddValues"/>, left out, and renamed to upper case. A batch's first entry is valid, so its refusal
    /// shows whether the batch is refused whole.
    /// </summary>
    public IEnumerable<MutatedRequest> EveryFieldChange()
    {
        foreach (var template in new Func<Write>[] { SingleEvent, EventBatch, PutItem, ItemBatch, PatchItem, PatchItems })
        {
            foreach (var field in Fields(template().Changed))
            {
                foreach (var value in OddValues)
                {
                    var write = template();
                    if (field.Index is { } index) write.Changed[field.Name]![index] = Placeholder;
                    else write.Changed[field.Name] = Placeholder;
                    yield return Request(write, write.Body.ToJsonString().Replace($"\"{Placeholder}\"", value, StringComparison.Ordinal));
                }
                if (field.Index is not null) continue;
                foreach (var rename in new[] { false, true })
                {
                    var write = template();
                    var value = write.Changed[field.Name]?.DeepClone();
                    write.Changed.Remove(field.Name);
                    if (rename) write.Changed[field.Name.ToUpperInvariant()] = value;
                    yield return Request(write, write.Body.ToJsonString());
                }
            }
        }
    }

    /// <summary>A request changed at random: a write, a read, another method, a model upload or an export.</summary>
    public MutatedRequest Next()
    {
        var request = _random.Next(20) switch
        {
            < 12 => RandomWrite(),
            < 16 => OddRead(),
            < 18 => OddMethod(),
            18 => OddModelUpload(),
            _ => OddExport(),
        };
        if (_random.NextDouble() < 0.1) request = request with { IdempotencyKey = Pick(OddIdempotencyKeys) };
        return request;
    }

    private string Unique(string kind) => $"{prefix}-{kind}-{++_serial}";

    private static string CatalogueItem(int i) => (1 + i % SmallCatalogue.Movies).ToString(CultureInfo.InvariantCulture);

    private JsonObject Event(string user) => new()
    {
        ["userId"] = user,
        ["itemId"] = CatalogueItem(_serial),
        ["type"] = "rating",
        ["value"] = 4,
        ["timestamp"] = "2026-11-20T10:00:00Z",
        ["eventId"] = Unique("event"),
    };

    private JsonObject ItemFields() => new()
    {
        ["title"] = "Title " + _serial,
        ["text"] = "Adventure|Sci-Fi",
        ["tags"] = new JsonArray("space", "rebels"),
        ["hidden"] = false,
        ["availableFrom"] = "2026-01-01T00:00:00Z",
        ["expiresAt"] = "2099-01-01T00:00:00Z",
        ["embedding"] = new JsonArray(Enumerable.Range(0, embeddingDimension).Select(i => (JsonNode?)JsonValue.Create(0.1 * (i % 7) - 0.3)).ToArray()),
    };

    private Write SingleEvent()
    {
        var user = Unique("user");
        var e = Event(user);
        return new Write(HttpMethod.Post, "/events", e, e, [$"/users/{user}/history"]);
    }

    private Write EventBatch()
    {
        var (first, second) = (Unique("user"), Unique("user"));
        var changed = Event(second);
        return new Write(HttpMethod.Post, "/events", new JsonArray(Event(first), changed), changed,
            [$"/users/{first}/history", $"/users/{second}/history"]);
    }

    private Write PutItem()
    {
        var id = Unique("item");
        var fields = ItemFields();
        return new Write(HttpMethod.Put, "/items/" + id, fields, fields, [$"/items/{id}"]);
    }

    private Write ItemBatch()
    {
        var (first, second) = (Unique("item"), Unique("item"));
        var changed = ItemFields();
        changed.Insert(0, "id", second);
        var valid = ItemFields();
        valid.Insert(0, "id", first);
        return new Write(HttpMethod.Post, "/items", new JsonArray(valid, changed), changed, [$"/items/{first}", $"/items/{second}"]);
    }

    // A change of a catalogue item (the cluster is this test's own): every field, as a merge patch may give them all.
    private Write PatchItem()
    {
        var id = CatalogueItem(++_serial);
        var fields = ItemFields();
        return new Write(HttpMethod.Patch, "/items/" + id, fields, fields, [$"/items/{id}"]);
    }

    private Write PatchItems()
    {
        var (first, second) = (CatalogueItem(++_serial), CatalogueItem(++_serial));
        var changed = ItemFields();
        changed.Insert(0, "id", second);
        var valid = ItemFields();
        valid.Insert(0, "id", first);
        return new Write(HttpMethod.Patch, "/items", new JsonArray(valid, changed), changed, [$"/items/{first}", $"/items/{second}"]);
    }

    // A field is a property name, or a property name and the index of an array element ("tags", 0).
    private static IEnumerable<(string Name, int? Index)> Fields(JsonObject obj)
    {
        foreach (var (name, value) in obj)
        {
            yield return (name, null);
            if (value is JsonArray { Count: > 0 }) yield return (name, 0);
        }
    }

    private MutatedRequest Request(Write write, string json) =>
        new(write.Method, write.Path, Encoding.UTF8.GetBytes(json), "application/json", null, write.Reads);

    private MutatedRequest RandomWrite()
    {
        var template = Pick<Func<Write>>([SingleEvent, EventBatch, PutItem, ItemBatch, PatchItem, PatchItems])();
        // A key sent twice (MutateBytes) names these.
        var write = template with { Reads = [.. template.Reads, $"/users/{prefix}-user-0/history", $"/items/{prefix}-item-0"] };
        var values = new List<string>();
        var body = _random.NextDouble() < 0.85 ? Mutate(write.Body, values) : write.Body;
        var text = body.ToJsonString();
        for (var i = 0; i < values.Count; i++) text = text.Replace($"\"{Placeholder}{i}\"", values[i], StringComparison.Ordinal);
        var bytes = Encoding.UTF8.GetBytes(text);
        if (_random.NextDouble() < 0.15) bytes = MutateBytes(bytes);
        var contentType = _random.NextDouble() < 0.08 ? Pick(OddContentTypes) : "application/json";
        return new MutatedRequest(write.Method, write.Path, bytes, contentType, null, write.Reads);
    }

    // Changes one place of the tree, at any depth; odd values go in as numbered placeholders for their JSON text.
    private JsonNode Mutate(JsonNode node, List<string> values)
    {
        switch (node)
        {
            case JsonObject obj when obj.Count > 0 && _random.NextDouble() < 0.7:
            {
                var key = obj.ElementAt(_random.Next(obj.Count)).Key;
                switch (_random.Next(5))
                {
                    case 0:
                        obj.Remove(key);
                        break;
                    case 1:
                        obj[key] = OddValue(values);
                        break;
                    case 2:
                        obj[key] = Mutate(obj[key]?.DeepClone() ?? JsonValue.Create(0), values);
                        break;
                    case 3:
                        var value = obj[key]?.DeepClone();
                        obj.Remove(key);
                        obj[_random.Next(2) == 0 ? key.ToUpperInvariant() : key + "x"] = value;
                        break;
                    default:
                        obj[Pick(["extra", "id", "value", "embedding", "tags", "hidden", "timestamp", "eventId"])] = OddValue(values);
                        break;
                }
                return obj;
            }
            case JsonArray array when array.Count > 0 && _random.NextDouble() < 0.7:
            {
                var i = _random.Next(array.Count);
                switch (_random.Next(4))
                {
                    case 0:
                        array[i] = Mutate(array[i]?.DeepClone() ?? JsonValue.Create(0), values);
                        return array;
                    case 1:
                        array[i] = OddValue(values);
                        return array;
                    case 2:
                        // Past the limits of a batch (1,000 events, 500 items) or just longer.
                        var length = Pick([3, 400, 1001]);
                        return new JsonArray(Enumerable.Range(0, length).Select(j => array[j % array.Count]?.DeepClone()).ToArray());
                    default:
                        return new JsonArray();
                }
            }
            default:
                return OddValue(values);
        }
    }

    private JsonNode OddValue(List<string> values)
    {
        values.Add(Pick(OddValues));
        return JsonValue.Create($"{Placeholder}{values.Count - 1}");
    }

    private byte[] MutateBytes(byte[] body)
    {
        switch (_random.Next(7))
        {
            case 0 when body.Length > 0:
                return body[.._random.Next(body.Length)];
            case 1:
                var inserted = body.ToList();
                inserted.Insert(_random.Next(body.Length + 1), (byte)_random.Next(256));
                return [.. inserted];
            case 2 when body.Length > 0:
                var changed = body.ToArray();
                changed[_random.Next(changed.Length)] = (byte)_random.Next(256);
                return changed;
            case 3:
                return [0xEF, 0xBB, 0xBF, .. body];
            case 4:
                return [0xC0, 0xAF, .. body];
            case 5:
                // The same keys twice in the first object, the first time naming another user.
                var text = Encoding.UTF8.GetString(body);
                var brace = text.IndexOf('{', StringComparison.Ordinal);
                return brace < 0 ? body : Encoding.UTF8.GetBytes(text.Insert(brace + 1, $"\"userId\":\"{prefix}-user-0\",\"id\":\"{prefix}-item-0\","));
            default:
                return [];
        }
    }

    private MutatedRequest OddRead()
    {
        if (_random.Next(3) == 0) return OddSession();
        var id = _random.Next(2) == 0 ? Pick(OddPathIds) : Pick([$"{prefix}-user-0", CatalogueItem(_random.Next(1000))]);
        var template = Pick(["/users/{0}/recommendations", "/users/{0}/history", "/items/{0}", "/items/{0}/similar", "/models/{0}"]);
        var query = string.Join("&", Enumerable.Range(0, 1 + _random.Next(3)).Select(_ => $"{Pick(QueryNames)}={Pick(QueryValues)}"));
        return new MutatedRequest(HttpMethod.Get, string.Format(CultureInfo.InvariantCulture, template, id) + "?" + query, null, null, null, []);
    }

    /// <summary>A session's recommendations (a POST that writes nothing) with an odd entry, items field or query.</summary>
    private MutatedRequest OddSession()
    {
        var entries = Enumerable.Range(0, _random.Next(4)).Select(_ => JsonSerializer.Serialize(CatalogueItem(_random.Next(1000)))).ToList();
        entries.Insert(_random.Next(entries.Count + 1), Pick(OddValues));
        var items = _random.Next(4) switch
        {
            0 => Pick(OddValues),
            1 => "[" + string.Join(",", Enumerable.Repeat("\"2\"", 1001)) + "]",
            _ => "[" + string.Join(",", entries) + "]",
        };
        var body = _random.Next(5) == 0 ? $"{{\"items\":{items},\"{Pick(OddStrings.Where(s => s.Length < 100).ToArray())}\":1}}" : $"{{\"items\":{items}}}";
        var query = string.Join("&", Enumerable.Range(0, _random.Next(3)).Select(_ => $"{Pick(QueryNames)}={Pick(QueryValues)}"));
        return new MutatedRequest(HttpMethod.Post, "/recommendations?" + query, Encoding.UTF8.GetBytes(body), "application/json", null,
            ["/models", $"/users/{prefix}-user-0/history"]);
    }

    private MutatedRequest OddMethod()
    {
        var method = Pick([HttpMethod.Delete, HttpMethod.Patch, HttpMethod.Put, HttpMethod.Post, HttpMethod.Head, HttpMethod.Options]);
        var path = Pick(["/users/" + Pick(OddPathIds), "/items/" + Pick(OddPathIds), "/models/" + Pick(OddPathIds) + "/activate",
            "/models/rollback", "/events", $"/users/{prefix}-user-0"]);
        var body = Pick<byte[]?>([null, [], "{}"u8.ToArray(), "null"u8.ToArray()]);
        return new MutatedRequest(method, path, body, body is null ? null : "application/json", null, ["/models", $"/users/{prefix}-user-0/history"]);
    }

    private MutatedRequest OddModelUpload()
    {
        const string boundary = "mutated-boundary";
        var body = new List<byte>();
        foreach (var name in new[] { "manifest", "encoder", "embeddings", "text_projection", "bogus" }.OrderBy(_ => _random.Next()).Take(_random.Next(4)))
        {
            var content = Pick([[], "{}"u8.ToArray(), new byte[10], "{\"version\":\"mutated\"}"u8.ToArray(),
                Enumerable.Range(0, 64).Select(_ => (byte)_random.Next(256)).ToArray()]);
            body.AddRange(Encoding.UTF8.GetBytes($"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"f\"\r\n\r\n"));
            body.AddRange(content);
            body.AddRange("\r\n"u8.ToArray());
        }
        if (_random.NextDouble() < 0.8) body.AddRange(Encoding.UTF8.GetBytes($"--{boundary}--\r\n"));
        var contentType = Pick([$"multipart/form-data; boundary={boundary}", "multipart/form-data", "application/json"]);
        return new MutatedRequest(HttpMethod.Post, "/models", [.. body], contentType, null, ["/models"]);
    }

    private MutatedRequest OddExport()
    {
        var query = string.Join("&", Enumerable.Range(0, _random.Next(3)).Select(_ => $"{Pick(QueryNames)}={Pick(QueryValues)}"));
        return new MutatedRequest(HttpMethod.Get, "/events/export?" + query, null, null, null, []);
    }

    private T Pick<T>(IReadOnlyList<T> values) => values[_random.Next(values.Count)];
}
