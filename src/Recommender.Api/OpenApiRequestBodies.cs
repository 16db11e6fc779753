using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Recommender.Grains.Registry;
using Recommender.Model.Packaging;

namespace Recommender.Api;

/// <summary>
/// Request bodies read by hand, described as they are accepted: POST /events takes one event object or an array of
/// them, and POST /models a multipart form with one file per package part (no other part).
/// </summary>
public sealed class OpenApiRequestBodies : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        switch (operation.OperationId)
        {
            case "PostEvents":
                if (operation.RequestBody?.Content?.TryGetValue("application/json", out var json) == true && json.Schema is { Items: { } one } batch)
                    json.Schema = new OpenApiSchema { OneOf = [one, batch] };
                break;
            case "UploadModel":
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["multipart/form-data"] = new() { Schema = ModelUploadForm() },
                    },
                };
                break;
        }
        return Task.CompletedTask;
    }

    private static OpenApiSchema ModelUploadForm()
    {
        static IOpenApiSchema File(string description) => new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = description };
        return new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            AdditionalPropertiesAllowed = false,
            Required = new HashSet<string>(Endpoints.ModelEndpoints.Parts),
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["manifest"] = File($"The package's {ModelPackage.ManifestFile}."),
                ["encoder"] = File($"The package's {ModelPackage.EncoderFile}: the ONNX encoder from item-id sequences to interest vectors."),
                ["embeddings"] = File($"The package's {ModelPackage.EmbeddingsFile}: the item vectors, row after row, float32 little-endian."),
                [ModelUploadValidator.TextProjectionPart] = File($"The package's {ModelPackage.TextProjectionFile}, when it was trained with item text."),
            },
        };
    }
}
