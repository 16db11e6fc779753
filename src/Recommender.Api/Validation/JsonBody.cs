using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Recommender.Abstractions;

namespace Recommender.Api.Validation;

/// <summary>
/// Reads a request body as JSON by hand, so that malformed JSON is a 400 problem naming "body" and an oversized
/// body a 413, instead of the framework's binding errors.
/// </summary>
public static class JsonBody
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 32 };

    /// <summary>The parsed document, or the problem to answer with.</summary>
    public static async Task<(JsonDocument? Document, IResult? Problem)> ReadAsync(HttpRequest request, CancellationToken cancellation)
    {
        var limit = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? Limits.MaxBodyBytes;
        if (request.ContentLength > limit) return (null, Problems.TooLarge(limit));
        try
        {
            return (await JsonDocument.ParseAsync(request.Body, Options, cancellation), null);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, Problems.TooLarge(limit));
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $" (line {line + 1}, byte {e.BytePositionInLine + 1})" : "";
            return (null, Problems.Invalid("body", $"The body is not valid JSON{where}."));
        }
    }
}
