using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Recommender.Abstractions;

namespace Recommender.Api;

/// <summary>
/// Query parameters are bound as text and validated by hand (so that a bad value is a problem naming it); this gives
/// the OpenAPI document their real types, bounds, defaults and meaning, so that generated clients get them right.
/// </summary>
public sealed class OpenApiQueryParameters : IOpenApiOperationTransformer
{
    private static readonly Dictionary<string, Func<OpenApiSchema>> Schemas = new(StringComparer.Ordinal)
    {
        ["k"] = () => new() { Type = JsonSchemaType.Integer, Minimum = "1", Maximum = Limits.MaxK.ToString(System.Globalization.CultureInfo.InvariantCulture), Default = JsonValue.Create(Limits.DefaultK) },
        ["limit"] = () => new() { Type = JsonSchemaType.Integer, Minimum = "1" },
        ["includeSeen"] = () => new() { Type = JsonSchemaType.Boolean, Default = JsonValue.Create(false) },
        ["explain"] = () => new() { Type = JsonSchemaType.Boolean, Default = JsonValue.Create(false) },
        ["exclude"] = () => new() { Type = JsonSchemaType.String },
        ["tag"] = () => new() { Type = JsonSchemaType.String, MinLength = 1, MaxLength = Limits.MaxTagLength },
    };

    private static readonly Dictionary<string, string> Descriptions = new(StringComparer.Ordinal)
    {
        ["k"] = "How many items to return.",
        ["limit"] = "Return only this many of the most recent events (default: all retained).",
        ["includeSeen"] = "Let items already in the user's history be recommended.",
        ["explain"] = "Add to each model-ranked item the recent history items closest to it ('because').",
        ["exclude"] = $"Comma-separated item ids to leave out (at most {Limits.MaxExclude}).",
        ["tag"] = "Only items carrying this tag (case-insensitive).",
    };

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
        {
            if (parameter.In != ParameterLocation.Query || parameter.Name is not { } name || !Schemas.TryGetValue(name, out var schema)) continue;
            parameter.Schema = schema();
            parameter.Description = Descriptions[name];
        }
        return Task.CompletedTask;
    }
}
