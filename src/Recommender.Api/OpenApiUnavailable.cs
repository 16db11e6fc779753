using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Recommender.Api;

/// <summary>
/// Every operation that reaches the cluster can be answered 503 while the cluster or its database is unavailable:
/// the document says so, with the Retry-After header and the problem's <c>mayHaveBeenWritten</c> member, so that a
/// generated client knows when a resend is needed.
/// </summary>
public sealed class OpenApiUnavailable : IOpenApiOperationTransformer
{
    public const string Description =
        "The cluster or its database is unavailable (problem details); Retry-After says when to try again. The problem's " +
        "boolean member mayHaveBeenWritten says whether the request may have been carried out all the same (the database " +
        "connection broke during a write, or the cluster did not answer a write in time or lost the node serving it): then send it again with the same " +
        "event ids or Idempotency-Key, and what was stored counts as a repeat. false: nothing was written.";

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        // The API's operations all carry the API-key policy; health, OpenAPI and metrics are not in the document.
        if (!context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Any()) return Task.CompletedTask;
        if (operation.Responses?.TryGetValue("503", out var unavailable) != true || unavailable is not OpenApiResponse response) return Task.CompletedTask;
        response.Description = Description;
        response.Headers ??= new Dictionary<string, IOpenApiHeader>();
        response.Headers["Retry-After"] = RetryAfterHeader(minimum: 0);
        return Task.CompletedTask;
    }

    /// <summary>The Retry-After header of an answer that says when to try again.</summary>
    public static OpenApiHeader RetryAfterHeader(int minimum) => new()
    {
        Description = "Seconds to wait before trying again.",
        Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = minimum.ToString(System.Globalization.CultureInfo.InvariantCulture) },
    };
}
