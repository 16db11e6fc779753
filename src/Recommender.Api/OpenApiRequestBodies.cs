using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Recommender.Abstractions;
using Recommender.Api.Endpoints;
using Recommender.Grains.Registry;
using Recommender.Model.Packaging;

namespace Recommender.Api;

/// <summary>
/// Request bodies read by hand, described as they are accepted: POST /events takes one event object or an array of
/// them, and POST /models a multipart form with one file per package part (no other part). An event's ids may be
/// integers, its type is one of the event types in any case, and its timestamp ISO 8601 or Unix seconds.
/// </summary>
public sealed class OpenApiRequestBodies : IOpenApiOperationTransformer, IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonTypeInfo.Type == typeof(SessionRequest) && schema.Properties?.TryGetValue("items", out var list) == true
            && list is OpenApiSchema { Items: OpenApiSchema entry } itemList)
        {
            entry.Type = JsonSchemaType.String | JsonSchemaType.Integer;
            itemList.MaxItems = Limits.MaxSessionItems;
        }
        if (context.JsonTypeInfo.Type == typeof(UsersRequest) && schema.Properties?.TryGetValue("users", out var users) == true
            && users is OpenApiSchema { Items: OpenApiSchema user } userList)
        {
            user.Type = JsonSchemaType.String | JsonSchemaType.Integer;
            userList.MinItems = 1;
            userList.MaxItems = Limits.MaxUsersPerRequest;
        }
        if (context.JsonTypeInfo.Type != typeof(EventRequest) || schema.Properties is not { } properties) return Task.CompletedTask;
        foreach (var id in new[] { "userId", "itemId", "eventId" })
            if (properties.TryGetValue(id, out var p) && p is OpenApiSchema idSchema)
            {
                idSchema.Type = JsonSchemaType.String | JsonSchemaType.Integer | (id == "eventId" ? JsonSchemaType.Null : 0);
                idSchema.Description = $"1–{Limits.MaxIdLength} characters without control characters; an integer is taken as written.";
            }
        if (properties.TryGetValue("type", out var t) && t is OpenApiSchema type)
        {
            type.Enum = [.. Enum.GetValues<EventType>().Select(v => (JsonNode)JsonValue.Create(EventTypes.Name(v)))];
            type.Description = "The kind of event; matched ignoring case. 'dismiss' is the user turning the item down (\"not interested\"): "
                + "it is never recommended to the user again unless a later event takes it up, and the model does not read it as interest.";
        }
        if (properties.TryGetValue("timestamp", out var ts) && ts is OpenApiSchema timestamp)
        {
            timestamp.Type = JsonSchemaType.String | JsonSchemaType.Integer | JsonSchemaType.Null;
            timestamp.Description = "An ISO 8601 date-time (UTC when it has no offset) or Unix seconds, at most a day ahead; absent: when the server receives it.";
        }
        return Task.CompletedTask;
    }

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
