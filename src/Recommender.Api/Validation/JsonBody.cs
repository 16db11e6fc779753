using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Recommender.Abstractions;

namespace Recommender.Api.Validation;

/// <summary>
/// Reads a request body as JSON by hand, so that malformed JSON is a 400 problem naming "body" and an oversized
/// body a 413, instead of the framework's binding errors. Malformed includes what the parser lets through: a key
/// given twice in one object (which value was meant is unknowable) and strings that are not valid Unicode (bytes
/// that are not UTF-8, or an escaped lone surrogate), which could not be read as text later.
/// </summary>
public static class JsonBody
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 32, AllowDuplicateProperties = false };

    /// <summary>The parsed document, or the problem to answer with.</summary>
    public static async Task<(JsonDocument? Document, IResult? Problem)> ReadAsync(HttpRequest request, CancellationToken cancellation)
    {
        var limit = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? Limits.MaxBodyBytes;
        if (request.ContentLength > limit) return (null, Problems.TooLarge(limit));
        try
        {
            var document = await JsonDocument.ParseAsync(request.Body, Options, cancellation);
            if (InvalidText(document.RootElement, "$") is { } path)
            {
                document.Dispose();
                return (null, Problems.Invalid("body", $"The string at {path} is not valid Unicode text (invalid UTF-8, or an escaped lone surrogate)."));
            }
            return (document, null);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, Problems.TooLarge(limit));
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $" (line {line + 1}, byte {e.BytePositionInLine + 1})" : "";
            // The parser reports what went wrong only in its message; a body cut short also speaks of "depth" ("Expected
            // depth to be zero at the end"), so each case is matched by its own wording.
            var reason = e.Message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase) ? ": an object has the same key twice"
                : e.Message.Contains("maximum configured depth", StringComparison.OrdinalIgnoreCase) ? $": it nests deeper than {Options.MaxDepth} levels"
                : e.Message.Contains("depth to be zero at the end", StringComparison.OrdinalIgnoreCase) ? ": it ends before every object and array is closed"
                : "";
            return (null, Problems.Invalid("body", $"The body is not valid JSON{where}{reason}."));
        }
    }

    /// <summary>The JSON path of the first key or string value that is not valid Unicode, or null.</summary>
    private static string? InvalidText(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return Readable(() => element.GetString()) ? null : path;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                    if (InvalidText(item, $"{path}[{index++}]") is { } found) return found;
                return null;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (!Readable(() => property.Name)) return $"{path} (a key)";
                    if (InvalidText(property.Value, $"{path}.{property.Name}") is { } found) return found;
                }
                return null;
            default:
                return null;
        }

        static bool Readable(Func<string?> read)
        {
            try
            {
                read();
                return true;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }
    }
}
