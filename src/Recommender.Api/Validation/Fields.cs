using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Recommender.Abstractions;

namespace Recommender.Api.Validation;

/// <summary>Readers for the fields of a JSON object, adding an error that names the field when a value is missing or wrong.</summary>
public static class Fields
{
    /// <summary>
    /// Names every property of <paramref name="obj"/> that is not one of <paramref name="known"/> (matched exactly, as the
    /// readers below match), so that a misspelt or differently cased field ("timeStamp", "Value") is an error, not data
    /// silently replaced by a default.
    /// </summary>
    public static void OnlyKnown(JsonElement obj, IReadOnlyList<string> known, int? index, string what, ValidationErrors errors)
    {
        foreach (var property in obj.EnumerateObject())
            if (!known.Contains(property.Name, StringComparer.Ordinal))
                errors.Add(ValidationErrors.Field(index, property.Name), $"'{property.Name}' is not a field of {what}; the fields are {string.Join(", ", known)}.");
    }

    /// <summary>
    /// The array a body made of one object with one list holds (<c>{"items": [...]}</c>), or null with the errors named:
    /// a body that is not an object (<paramref name="shape"/> says what it should be), a field the object may not have,
    /// the list missing (<paramref name="required"/> says what it holds) or not an array. <paramref name="optional"/>
    /// names the other fields the object may have.
    /// </summary>
    public static JsonElement? RequiredList(JsonElement body, string name, string what, string shape, string required, ValidationErrors errors,
        IReadOnlyList<string>? optional = null)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors.Add("body", $"The body must be an object naming {shape}.");
            return null;
        }
        OnlyKnown(body, [name, .. optional ?? []], null, what, errors);
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            errors.Add(name, $"'{name}' is required: {required}.");
            return null;
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add(name, $"'{name}' must be an array of {(name == "users" ? "user" : "item")} ids.");
            return null;
        }
        return value;
    }

    /// <summary>A required or optional id: a non-blank string (or an integer, taken as written) of at most 256 characters.</summary>
    public static string? Id(JsonElement obj, string name, string field, ValidationErrors errors, bool required = true)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required) errors.Add(field, $"'{name}' is required.");
            return null;
        }
        return IdValue(value, name, field, errors);
    }

    /// <summary>An id given as <paramref name="value"/> (a property's or an array entry's), named <paramref name="name"/> in the error.</summary>
    public static string? IdValue(JsonElement value, string name, string field, ValidationErrors errors)
    {
        var text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            // As written, so that -0 stays "-0" and is not merged with the id "0".
            JsonValueKind.Number when value.TryGetInt64(out _) => value.GetRawText(),
            _ => null,
        };
        if (text is null) errors.Add(field, $"'{name}' must be a string.");
        else if (Limits.IdProblem(text) is { } problem) errors.Add(field, $"'{name}' {problem}.");
        else return text;
        return null;
    }

    /// <summary>unknownItems=refuse (the default) or accept: whether items not in the catalogue are accepted.</summary>
    public static bool UnknownItems(string? value, ValidationErrors errors)
    {
        if (value is null or "refuse") return false;
        if (value == "accept") return true;
        errors.Add("unknownItems", $"unknownItems '{value}' must be refuse (an item not in the catalogue is an error, the default) or accept.");
        return false;
    }

    /// <summary>
    /// The id in path segment <paramref name="segment"/> (0 = the first after the leading '/'), checked like a body id.
    /// The server decodes every escape in a path except %2F, so that it cannot split a segment; an id holding '/'
    /// (sent as %2F) is therefore read from the raw request target, where "%2F" and "%252F" still differ.
    /// </summary>
    public static string? PathId(HttpRequest request, string? id, int segment, string field, ValidationErrors errors)
    {
        if (id is not null && id.Contains('%') && RawSegment(request, segment) is { } raw)
        {
            // The server leaves escapes that are not UTF-8 (%FF) as they are, so "%FF" and "%25FF" would name one user.
            if (Unescape(raw) is not { } decoded)
            {
                errors.Add(field, "The id's percent-escapes are not UTF-8 text.");
                return null;
            }
            id = decoded;
        }
        if (Limits.IdProblem(id ?? "") is { } problem) errors.Add(field, $"The id {problem}.");
        else return id;
        return null;
    }

    private static string? RawSegment(HttpRequest request, int segment)
    {
        var target = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(target) || target[0] != '/') return null;
        var query = target.IndexOf('?');
        var segments = (query < 0 ? target : target[..query]).Split('/');
        return segment + 1 < segments.Length ? segments[segment + 1] : null;
    }

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>A raw path segment percent-decoded as UTF-8, or null when an escape is malformed or the bytes are not UTF-8.</summary>
    private static string? Unescape(string raw)
    {
        var bytes = new List<byte>(raw.Length);
        for (var i = 0; i < raw.Length;)
        {
            if (raw[i] != '%')
            {
                var next = raw.IndexOf('%', i);
                var run = next < 0 ? raw[i..] : raw[i..next];
                bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(run));
                i += run.Length;
                continue;
            }
            if (i + 2 >= raw.Length || !byte.TryParse(raw.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b)) return null;
            bytes.Add(b);
            i += 3;
        }
        try
        {
            return StrictUtf8.GetString(bytes.ToArray());
        }
        catch (System.Text.DecoderFallbackException)
        {
            return null;
        }
    }

    public static string? Text(JsonElement obj, string name, string field, int maxLength, ValidationErrors errors, bool required)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required) errors.Add(field, $"'{name}' is required.");
            return null;
        }
        if (value.ValueKind != JsonValueKind.String) { errors.Add(field, $"'{name}' must be a string."); return null; }
        var text = value.GetString()!;
        if (required && string.IsNullOrWhiteSpace(text)) { errors.Add(field, $"'{name}' must not be empty."); return null; }
        if (text.Length > maxLength) { errors.Add(field, $"'{name}' is {text.Length} characters long; the limit is {maxLength}."); return null; }
        // A NUL or an escape sequence in a title is never meant, and breaks whatever displays it; tabs and line breaks are text.
        if (text.Any(c => char.IsControl(c) && c is not ('\t' or '\n' or '\r')))
        {
            errors.Add(field, $"'{name}' must not contain control characters other than tab and line breaks.");
            return null;
        }
        return text;
    }

    /// <summary>An optional timestamp: an ISO-8601 date-time (UTC unless an offset is given) or Unix seconds; at most one day ahead of now.</summary>
    public static DateTimeOffset? Timestamp(JsonElement obj, string name, string field, DateTimeOffset now, ValidationErrors errors)
    {
        var parsed = Instant(obj, name, field, errors);
        if (parsed > now + Limits.MaxClockSkew) { errors.Add(field, $"'{name}' {parsed:O} is more than {Limits.MaxClockSkew.TotalDays:0} day ahead of the server clock."); return null; }
        return parsed;
    }

    /// <summary>An event type's name (any case); null, with the fault under <paramref name="field"/>, for anything else.</summary>
    public static EventType? EventTypeNamed(string text, string field, ValidationErrors errors)
    {
        if (EventTypes.TryParse(text, out var type)) return type;
        errors.Add(field, $"'{text}' is not an event type; use one of: {EventTypes.AllNames}.");
        return null;
    }

    /// <summary>An optional point in time, past or future: an ISO-8601 date-time (UTC unless an offset is given) or Unix seconds.</summary>
    public static DateTimeOffset? Instant(JsonElement obj, string name, string field, ValidationErrors errors)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        DateTimeOffset? parsed = value.ValueKind switch
        {
            // The JSON reader's check admits ISO 8601 only (not "11/27/2026", "12:00" or "Tuesday, 1 Dec 2026", which a culture
            // parse would read); the parse after it reads a date-time without an offset as UTC.
            JsonValueKind.String when value.TryGetDateTimeOffset(out _) && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) => t,
            JsonValueKind.Number when value.TryGetInt64(out var seconds) && seconds is >= -62135596800 and <= 253402300799 =>
                DateTimeOffset.FromUnixTimeSeconds(seconds),
            _ => null,
        };
        if (parsed is null) errors.Add(field, $"'{name}' must be an ISO-8601 date-time or Unix seconds.");
        return parsed;
    }

    public static double? Number(JsonElement obj, string name, string field, ValidationErrors errors)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number)) return number;
        errors.Add(field, $"'{name}' must be a finite number.");
        return null;
    }

    /// <summary>An optional JSON true or false (false when absent or null); a string such as "true" is refused.</summary>
    public static bool Boolean(JsonElement obj, string name, string field, ValidationErrors errors)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return false;
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False) return value.GetBoolean();
        errors.Add(field, $"'{name}' must be true or false.");
        return false;
    }

    public static string[] Tags(JsonElement obj, string name, string field, ValidationErrors errors)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return [];
        if (value.ValueKind != JsonValueKind.Array) { errors.Add(field, $"'{name}' must be an array of strings."); return []; }
        if (value.GetArrayLength() > Limits.MaxTags) { errors.Add(field, $"'{name}' has {value.GetArrayLength()} entries; the limit is {Limits.MaxTags}."); return []; }
        var tags = new List<string>();
        foreach (var tag in value.EnumerateArray())
        {
            if (tag.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(tag.GetString()) || tag.GetString()!.Length > Limits.MaxTagLength || tag.GetString()!.Any(char.IsControl))
            {
                errors.Add(field, $"Every entry of '{name}' must be a non-empty string of at most {Limits.MaxTagLength} characters, without control characters.");
                return [];
            }
            tags.Add(tag.GetString()!);
        }
        return tags.ToArray();
    }

    /// <summary>An optional embedding: exactly <paramref name="dimension"/> finite numbers with a norm within the limits.</summary>
    public static float[]? Embedding(JsonElement obj, string name, string field, int? dimension, ValidationErrors errors)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Array) { errors.Add(field, $"'{name}' must be an array of numbers."); return null; }
        if (dimension is null) { errors.Add(field, "No model is active yet, so an embedding cannot be checked or placed."); return null; }
        if (value.GetArrayLength() != dimension) { errors.Add(field, $"'{name}' has {value.GetArrayLength()} values; the active model's dimension is {dimension}."); return null; }
        var vector = new float[dimension.Value];
        var i = 0;
        foreach (var element in value.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.Number || !element.TryGetSingle(out var x) || !float.IsFinite(x))
            {
                errors.Add(field, $"'{name}'[{i}] is not a finite number.");
                return null;
            }
            vector[i++] = x;
        }
        if (!vector.AsSpan().ContainsAnyExcept(0f)) { errors.Add(field, $"'{name}' must not be all zeros."); return null; }
        var norm = Limits.VectorNorm(vector);
        if (norm is > Limits.MaxVectorNorm or < Limits.MinVectorNorm)
        {
            errors.Add(field, $"'{name}' has norm {norm:G3}; it must be between {Limits.MinVectorNorm:G} and {Limits.MaxVectorNorm:G}.");
            return null;
        }
        return vector;
    }

    /// <summary>The "k" query parameter: 1..<see cref="Limits.MaxK"/>, <see cref="Limits.DefaultK"/> when absent.</summary>
    public static int? K(string? text, ValidationErrors errors)
    {
        if (text is null) return Limits.DefaultK;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var k) || k < 1 || k > Limits.MaxK)
        {
            errors.Add("k", $"k must be an integer from 1 to {Limits.MaxK}.");
            return null;
        }
        return k;
    }

    /// <summary>
    /// The "offset" query parameter (0 when absent): how many items of the list come before the k returned, a page
    /// further down it. The list is ranked to offset + k, which may not pass <see cref="Limits.MaxK"/>. A diverse list
    /// has no later pages: it is picked from the best 4·k, a pool that grows with the depth, so pages would not join up.
    /// </summary>
    public static int Offset(string? text, int? k, float diversity, ValidationErrors errors)
    {
        if (text is null) return 0;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var offset) || offset < 0 || offset > Limits.MaxK - 1)
            errors.Add("offset", $"offset must be an integer from 0 to {Limits.MaxK - 1}: how many items of the list to skip.");
        else if (k is { } count && offset + count > Limits.MaxK)
            errors.Add("offset", $"offset + k is {offset + count}; a list goes {Limits.MaxK} items deep, so with k={count} offset may be at most {Limits.MaxK - count}.");
        else if (offset > 0 && diversity > 0)
            errors.Add("offset", "offset does not combine with diversity: a diverse list is picked from a pool that grows with its length, so its pages "
                + "would not join up. Ask for the whole list at once, or send the items already shown as exclude for a diverse pick of the rest.");
        else return offset;
        return 0;
    }

    /// <summary>The query parameters of a recommendation request, each checked as below; null when any is wrong.</summary>
    public static RecommendationRequest? Recommendation(string? k, string? offset, string? includeSeen, string? exclude, string[]? excludeId, string[]? tag,
        string[]? excludeTag, string? explain, string? diversity, string[]? boost, string[]? cap, string[]? capEach, string[]? pin, string[]? slot, string? fresh,
        string? maxAge, ValidationErrors errors)
    {
        var count = K(k, errors);
        var lambda = Diversity(diversity, errors);
        var skip = Offset(offset, count, lambda, errors);
        var withSeen = Flag(includeSeen, "includeSeen", errors);
        var excluded = Exclusions(exclude, excludeId, errors);
        var tags = TagFilters(tag, excludeTag, errors);
        var withReasons = Flag(explain, "explain", errors);
        var boosts = Boosts(boost, errors);
        var caps = Caps(cap, capEach, errors);
        var pins = Pins(pin, errors);
        var slots = Slots(slot, errors);
        var freshness = Fresh(fresh, errors);
        var age = MaxAge(maxAge, errors);
        return count is { } c && !errors.Any
            ? new RecommendationRequest(c, withSeen, excluded, tags.Tag, withReasons, lambda, skip, tags.Tags, tags.ExcludeTags, boosts, caps, Pins: pins, Slots: slots,
                Fresh: freshness, MaxAge: age)
            : null;
    }

    /// <summary>
    /// The fresh= parameter (null when absent): HALFLIFE:FACTOR, the half-life a number followed by m, h or d (minutes,
    /// hours, days) from <see cref="Limits.MinFreshHalfLife"/> to <see cref="Limits.MaxFreshHalfLife"/>, the factor a
    /// boost's (<see cref="Limits.MinBoostFactor"/> to <see cref="Limits.MaxBoostFactor"/>).
    /// </summary>
    public static Freshness? Fresh(string? value, ValidationErrors errors)
    {
        if (value is null) return null;
        const string Example = "such as fresh=6h:3 (an item available just now weighs three times as much, one six hours old twice, one a day old 1.125 times)";
        var colon = value.LastIndexOf(':');
        if (colon < 0)
        {
            errors.Add("fresh", $"fresh '{Shown(value)}' must be HALFLIFE:FACTOR, {Example}.");
            return null;
        }
        var (halfLifeText, factorText) = (value[..colon].Trim(), value[(colon + 1)..].Trim());
        var halfLife = Duration(halfLifeText);
        if (halfLife is null)
            errors.Add("fresh", $"fresh '{Shown(value)}' has half-life '{Shown(halfLifeText)}'; it must be a number followed by m, h or d (minutes, hours, days), "
                + $"from {Format(Limits.MinFreshHalfLife)} to {Format(Limits.MaxFreshHalfLife)}, {Example}.");
        var factorOk = double.TryParse(factorText, NumberStyles.Float, CultureInfo.InvariantCulture, out var factor)
            && factor >= Limits.MinBoostFactor && factor <= Limits.MaxBoostFactor;
        if (!factorOk)
            errors.Add("fresh", $"fresh '{Shown(value)}' has factor '{Shown(factorText)}'; it must be a number from {Limits.MinBoostFactor.ToString(CultureInfo.InvariantCulture)} "
                + $"to {Limits.MaxBoostFactor.ToString(CultureInfo.InvariantCulture)} (above 1 raises new items, below 1 holds them back).");
        return halfLife is { } h && factorOk ? new Freshness(h, factor) : null;
    }

    /// <summary>
    /// The maxAge= parameter (null when absent): a duration as fresh= takes its half-life (a number followed by m, h or d,
    /// from <see cref="Limits.MinFreshHalfLife"/> to <see cref="Limits.MaxFreshHalfLife"/>).
    /// </summary>
    public static TimeSpan? MaxAge(string? value, ValidationErrors errors)
    {
        if (value is null) return null;
        if (Duration(value.Trim()) is { } age) return age;
        errors.Add("maxAge", $"maxAge '{Shown(value)}' must be a number followed by m, h or d (minutes, hours, days), from {Format(Limits.MinFreshHalfLife)} "
            + $"to {Format(Limits.MaxFreshHalfLife)}, such as maxAge=2d (only items that became available in the last two days).");
        return null;
    }

    /// <summary>A number followed by m, h or d, from <see cref="Limits.MinFreshHalfLife"/> to <see cref="Limits.MaxFreshHalfLife"/>; null otherwise.</summary>
    private static TimeSpan? Duration(string text) =>
        text.Length >= 2 && DurationUnits.TryGetValue(char.ToLowerInvariant(text[^1]), out var unit)
            && double.TryParse(text[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount)
            && amount * unit.TotalMinutes >= Limits.MinFreshHalfLife.TotalMinutes && amount * unit.TotalMinutes <= Limits.MaxFreshHalfLife.TotalMinutes
            ? TimeSpan.FromMinutes(amount * unit.TotalMinutes) : null;

    private static readonly Dictionary<char, TimeSpan> DurationUnits = new() { ['m'] = TimeSpan.FromMinutes(1), ['h'] = TimeSpan.FromHours(1), ['d'] = TimeSpan.FromDays(1) };

    /// <summary>A freshness boost as fresh= takes it, in the largest whole unit of its half-life (6h:3, 90m:2).</summary>
    public static string Format(Freshness fresh) => $"{Format(fresh.HalfLife)}:{fresh.Factor.ToString("R", CultureInfo.InvariantCulture)}";

    /// <summary>A duration as fresh= and maxAge= take it, in its largest whole unit (2d, 36h, 90m).</summary>
    public static string Format(TimeSpan halfLife) =>
        halfLife.TotalDays % 1 == 0 ? $"{halfLife.TotalDays.ToString(CultureInfo.InvariantCulture)}d"
        : halfLife.TotalHours % 1 == 0 ? $"{halfLife.TotalHours.ToString(CultureInfo.InvariantCulture)}h"
        : $"{halfLife.TotalMinutes.ToString("R", CultureInfo.InvariantCulture)}m";

    /// <summary>
    /// The slot= parameters (repeatable, null for none): each TAG:POSITION, the tag checked as <see cref="Tag"/> does (the
    /// position follows the last colon, so a tag may hold one) and the position, counted from 1 at the top across pages,
    /// a whole number from 1 to <see cref="Limits.MaxK"/>; a position named twice is refused, and at most
    /// <see cref="Limits.MaxSlots"/> are given.
    /// </summary>
    public static TagSlot[]? Slots(string[]? values, ValidationErrors errors)
    {
        if (values is null || values.Length == 0) return null;
        if (values.Length > Limits.MaxSlots)
        {
            errors.Add("slot", $"slot is given {values.Length} times; the limit is {Limits.MaxSlots}.");
            return null;
        }
        var slots = new List<TagSlot>(values.Length);
        var wrong = false;
        foreach (var value in values)
        {
            var problem = Placed(value, "slot", "TAG:POSITION, such as slot=sponsored:3 (the best sponsored item third)", out var colon, out var position);
            if (problem is null && slots.FirstOrDefault(s => s.Position == position) is { } taken)
                problem = $"slot gives position {position} to tags '{Shown(taken.Tag)}' and '{Shown(value[..colon])}'; give each position one slot.";
            if (problem is null)
            {
                // A tag's own fault is named by the tag's check, under "slot".
                if (Tag(value[..colon], "slot", errors) is { } tag) slots.Add(new TagSlot(tag, position));
                else wrong = true;
                continue;
            }
            errors.Add("slot", problem);
            wrong = true;
        }
        return wrong ? null : [.. slots];
    }

    /// <summary>
    /// What is wrong with <paramref name="value"/> of <paramref name="parameter"/> as NAME:POSITION (the position after
    /// the last colon, a whole number from 1 for the top to <see cref="Limits.MaxK"/>), or null, with where its colon is
    /// and the position.
    /// </summary>
    private static string? Placed(string value, string parameter, string form, out int colon, out int position)
    {
        colon = value.LastIndexOf(':');
        position = 0;
        if (colon < 0) return $"{parameter} '{Shown(value)}' has no position: give it as {form}.";
        if (!int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out position) || position is < 1 or > Limits.MaxK)
            return $"{parameter} '{Shown(value)}' has position '{Shown(value[(colon + 1)..])}'; it must be a whole number from 1 (the top of the list) to {Limits.MaxK}.";
        return null;
    }

    /// <summary>
    /// The pin= parameters (repeatable, null for none): each ITEM:POSITION, the item id checked as ids are (the position
    /// follows the last colon, so an id may hold one) and the position, counted from 1 at the top across pages, a whole
    /// number from 1 to <see cref="Limits.MaxK"/>; an item or a position named twice is refused, and at most
    /// <see cref="Limits.MaxPins"/> are given.
    /// </summary>
    public static ItemPin[]? Pins(string[]? values, ValidationErrors errors)
    {
        if (values is null || values.Length == 0) return null;
        if (values.Length > Limits.MaxPins)
        {
            errors.Add("pin", $"pin is given {values.Length} times; the limit is {Limits.MaxPins}.");
            return null;
        }
        var pins = new List<ItemPin>(values.Length);
        var wrong = false;
        foreach (var value in values)
        {
            var problem = Placed(value, "pin", "ITEM:POSITION, such as pin=sku-42:1 (item sku-42 at the top of the list)", out var colon, out var position);
            problem ??= Limits.IdProblem(value[..colon]) is { } bad ? $"pin '{Shown(value)}' names an item whose id {bad}."
                : pins.Any(p => p.ItemId == value[..colon]) ? $"pin names item '{Shown(value[..colon])}' twice; give each item one position."
                : pins.FirstOrDefault(p => p.Position == position) is { } taken
                    ? $"pin puts items '{Shown(taken.ItemId)}' and '{Shown(value[..colon])}' both at position {position}; give each position one item."
                    : null;
            if (problem is null)
            {
                pins.Add(new ItemPin(value[..colon], position));
                continue;
            }
            errors.Add("pin", problem);
            wrong = true;
        }
        return wrong ? null : [.. pins];
    }

    /// <summary>
    /// The cap= and capEach= parameters together (each repeatable; null for none), at most <see cref="Limits.MaxCaps"/>
    /// in all. A cap is TAG:COUNT, the tag checked as <see cref="Tag"/> does (the count follows the last colon, so a tag
    /// may hold one) and the count a whole number from 1 to <see cref="Limits.MaxK"/> (excludeTag leaves a tag out
    /// altogether); a capEach is PREFIX:COUNT, the count holding for each tag that starts with the prefix on its own
    /// (<see cref="TagCap.Each"/>), and the prefix * standing for every tag. A tag or prefix given twice in one of them
    /// (ignoring case) is refused.
    /// </summary>
    public static TagCap[]? Caps(string[]? cap, string[]? capEach, ValidationErrors errors)
    {
        var given = (cap?.Length ?? 0) + (capEach?.Length ?? 0);
        if (cap is { Length: > 0 } && capEach is { Length: > 0 } && given > Limits.MaxCaps)
        {
            errors.Add("capEach", $"cap and capEach are given {given} times together; the limit is {Limits.MaxCaps}.");
            return null;
        }
        var single = CapParameters(cap, "cap", "TAG", "cap=sponsored:2 (at most two such items in the list)", "cap=sponsored:2", each: false, errors);
        var each = CapParameters(capEach, "capEach", "PREFIX", "capEach=brand::2 (at most two items of any one tag starting brand:) or capEach=*:3 (of any one tag)",
            "capEach=brand::2", each: true, errors);
        return single is null && each is null ? null : [.. single ?? [], .. each ?? []];
    }

    private static TagCap[]? CapParameters(string[]? values, string name, string tagNoun, string examples, string example, bool each, ValidationErrors errors) =>
        TagParameters<int, TagCap>(values, name, "count", Limits.MaxCaps, examples, example, errors,
            (value, text) => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is >= 1 and <= Limits.MaxK
                ? (count, null)
                : (0, $"{name} '{Shown(value)}' has count '{Shown(text)}'; it must be a whole number from 1 to {Limits.MaxK} (excludeTag leaves a tag's items out altogether)."),
            (tag, count) => new TagCap(each && tag == "*" ? "" : tag, count, each), c => c.Each && c.Tag.Length == 0 ? "*" : c.Tag, tagNoun);

    /// <summary>
    /// The boost= parameters (repeatable, null for none): each TAG:FACTOR, the tag checked as <see cref="Tag"/> does (the
    /// factor follows the last colon, so a tag may hold one) and the factor a number from <see cref="Limits.MinBoostFactor"/>
    /// to <see cref="Limits.MaxBoostFactor"/>; a tag boosted twice (ignoring case) is refused, since its factor would be
    /// ambiguous; at most <see cref="Limits.MaxBoosts"/>.
    /// </summary>
    public static TagBoost[]? Boosts(string[]? values, ValidationErrors errors) =>
        TagParameters<double, TagBoost>(values, "boost", "factor", Limits.MaxBoosts, "boost=sale:2 (twice the weight) or boost=sold-out:0.1", "boost=sale:2", errors,
            (value, text) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var factor)
                && factor >= Limits.MinBoostFactor && factor <= Limits.MaxBoostFactor
                ? (factor, null)
                : (0, $"boost '{Shown(value)}' has factor '{Shown(text)}'; it must be a number from {Limits.MinBoostFactor.ToString(CultureInfo.InvariantCulture)} "
                    + $"to {Limits.MaxBoostFactor.ToString(CultureInfo.InvariantCulture)} (above 1 raises the tag's items, below 1 holds them back)."),
            (tag, factor) => new TagBoost(tag, factor), b => b.Tag);

    /// <summary>
    /// Repeatable <paramref name="name"/>=TAG:VALUE parameters (null for none): the value after the last colon, read by
    /// <paramref name="read"/> (its value, or the problem with it), the tag checked as <see cref="Tag"/> does, each tag
    /// once ignoring case, at most <paramref name="max"/>; every problem is named under <paramref name="name"/>.
    /// </summary>
    private static TResult[]? TagParameters<TValue, TResult>(string[]? values, string name, string valueNoun, int max, string examples, string example,
        ValidationErrors errors, Func<string, string, (TValue Value, string? Problem)> read, Func<string, TValue, TResult> make, Func<TResult, string> tagOf,
        string tagNoun = "TAG")
    {
        if (values is null || values.Length == 0) return null;
        if (values.Length > max)
        {
            errors.Add(name, $"{name} is given {values.Length} times; the limit is {max}.");
            return null;
        }
        var form = $"{tagNoun}:{valueNoun.ToUpperInvariant()}";
        var results = new List<TResult>(values.Length);
        var wrong = false;
        foreach (var value in values)
        {
            var colon = value.LastIndexOf(':');
            var (parsed, bad) = colon < 0 ? (default!, null) : read(value, value[(colon + 1)..]);
            string? problem = null;
            if (colon < 0)
                problem = $"{name} '{Shown(value)}' has no {valueNoun}: give it as {form}, such as {examples}.";
            else if (string.IsNullOrWhiteSpace(value[..colon]))
                problem = $"{name} '{Shown(value)}' names no {tagNoun.ToLowerInvariant()}: give it as {form}, such as {example}.";
            else if (bad is not null)
                problem = bad;
            else if (Tag(value[..colon], name, errors) is not { } tag)
                wrong = true;
            else if (results.Any(r => string.Equals(tagOf(r), tag, StringComparison.OrdinalIgnoreCase)))
                problem = $"{name} names {tagNoun.ToLowerInvariant()} '{Shown(tag)}' twice; give each {tagNoun.ToLowerInvariant()} one {valueNoun}.";
            else results.Add(make(tag, parsed));
            if (problem is null) continue;
            errors.Add(name, problem);
            wrong = true;
        }
        return wrong ? null : [.. results];
    }

    /// <summary>A value as a message quotes it: at most 60 characters.</summary>
    private static string Shown(string value) => value.Length <= 60 ? value : value[..57] + "...";

    /// <summary>The tag= and excludeTag= parameters, as the fields a request carries (<see cref="TagMatch.Fields"/>; null for none).</summary>
    public static (string? Tag, string[]? Tags, string[]? ExcludeTags) TagFilters(string[]? tag, string[]? excludeTag, ValidationErrors errors)
    {
        var (first, all) = TagMatch.Fields(Tags(tag, "tag", errors));
        var barred = Tags(excludeTag, "excludeTag", errors);
        return (first, all, barred.Length == 0 ? null : barred);
    }

    /// <summary>
    /// A repeatable tag parameter (tag=, excludeTag=): each value one tag, checked as <see cref="Tag"/> does, repeats
    /// (ignoring case) dropped, at most <see cref="Limits.MaxTags"/>.
    /// </summary>
    public static string[] Tags(string[]? values, string name, ValidationErrors errors)
    {
        if (values is null || values.Length == 0) return [];
        if (values.Length > Limits.MaxTags)
        {
            errors.Add(name, $"{name} is given {values.Length} times; the limit is {Limits.MaxTags}.");
            return [];
        }
        var tags = new List<string>(values.Length);
        foreach (var value in values)
            if (Tag(value, name, errors) is { } tag && !tags.Contains(tag, StringComparer.OrdinalIgnoreCase)) tags.Add(tag);
        return [.. tags];
    }

    /// <summary>An optional number from 0 to 1 (0 when absent): how much relevance a list gives up for items unlike each other.</summary>
    public static float Diversity(string? text, ValidationErrors errors)
    {
        if (text is null) return 0;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value is >= 0 and <= 1) return (float)value;
        errors.Add("diversity", "diversity must be a number from 0 (the most relevant items) to 1 (items as unlike each other as the best 4·k allow), such as 0.3.");
        return 0;
    }

    /// <summary>A candidate version's share of the users: required, above 0 and at most 1.</summary>
    public static double Share(string? text, ValidationErrors errors)
    {
        if (text is not null && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value is > 0 and <= 1) return value;
        errors.Add("share", text is null
            ? "share is required: the part of the users the candidate serves, above 0 and at most 1, such as 0.1."
            : "share must be a number above 0 and at most 1 (the part of the users the candidate serves), such as 0.1; DELETE /models/{version}/candidate stops it.");
        return 0;
    }

    /// <summary>An optional true/false query flag (false when absent).</summary>
    public static bool Flag(string? text, string name, ValidationErrors errors)
    {
        if (text is null) return false;
        if (bool.TryParse(text, out var flag)) return flag;
        errors.Add(name, $"{name} must be true or false.");
        return false;
    }

    /// <summary>An optional comma-separated list of ids (at most <see cref="Limits.MaxExclude"/>).</summary>
    public static string[] IdList(string? text, string name, ValidationErrors errors)
    {
        if (string.IsNullOrEmpty(text)) return [];
        var ids = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (ids.Length > Limits.MaxExclude) errors.Add(name, $"{name} lists {ids.Length} ids; the limit is {Limits.MaxExclude}.");
        else if (ids.Select(Limits.IdProblem).FirstOrDefault(p => p is not null) is { } problem)
            errors.Add(name, $"An id in {name} {problem}.");
        else return ids.Distinct(StringComparer.Ordinal).ToArray();
        return [];
    }

    /// <summary>
    /// The items to leave out of a ranking: the comma-separated list <paramref name="list"/> (exclude=) plus each
    /// <paramref name="exact"/> value as one id, taken as given (excludeId=, repeatable), which is how an id that contains a
    /// comma or begins with a space is named. At most <see cref="Limits.MaxExclude"/> ids in all.
    /// </summary>
    public static string[] Exclusions(string? list, string[]? exact, ValidationErrors errors)
    {
        var listed = IdList(list, "exclude", errors);
        exact ??= [];
        if (exact.Length == 0) return listed;
        if (listed.Length + exact.Length > Limits.MaxExclude)
            errors.Add("excludeId", $"exclude and excludeId name {listed.Length + exact.Length} ids together; the limit is {Limits.MaxExclude}.");
        else if (exact.Select((id, i) => (Index: i, Problem: Limits.IdProblem(id))).FirstOrDefault(p => p.Problem is not null) is { Problem: { } problem } bad)
            errors.Add("excludeId", $"excludeId number {bad.Index + 1} {problem}.");
        else return listed.Concat(exact).Distinct(StringComparer.Ordinal).ToArray();
        return [];
    }

    /// <summary>An optional tag filter: non-blank, at most <see cref="Limits.MaxTagLength"/> characters.</summary>
    public static string? Tag(string? text, string name, ValidationErrors errors)
    {
        if (text is null) return null;
        if (string.IsNullOrWhiteSpace(text)) errors.Add(name, $"{name} must not be empty.");
        else if (text.Any(char.IsControl)) errors.Add(name, $"{name} must not contain control characters.");
        else if (text.Length > Limits.MaxTagLength) errors.Add(name, $"{name} is {text.Length} characters long; the limit is {Limits.MaxTagLength}.");
        else return text.Trim();
        return null;
    }
}
