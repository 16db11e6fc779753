using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Recommender.Api.Security;

/// <summary>
/// When API keys are configured, the OpenAPI document declares the two ways to send one and, on each protected
/// operation, that it needs one (and which role), with its 401 and 403 answers, so that generated clients send it.
/// </summary>
public sealed class OpenApiSecurity(ApiKeys keys) : IOpenApiDocumentTransformer, IOpenApiOperationTransformer
{
    private const string Bearer = "bearer";
    private const string Header = "apiKey";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        if (!keys.Enabled) return Task.CompletedTask;
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An API key as a bearer token: Authorization: Bearer <key>.",
        };
        document.Components.SecuritySchemes[Header] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = ApiKeyAuthenticationHandler.HeaderName,
            Description = $"An API key in the {ApiKeyAuthenticationHandler.HeaderName} header.",
        };
        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var policies = context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Select(a => a.Policy).ToHashSet();
        if (!keys.Enabled || policies.Count == 0) return Task.CompletedTask;
        var admin = policies.Contains(ApiKeyAuthenticationHandler.AdminPolicy);
        operation.Description = (operation.Description is null ? "" : operation.Description + " ")
            + (admin ? "Needs an admin key." : "Needs a client or an admin key.");
        operation.Security =
        [
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Bearer, context.Document)] = [] },
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Header, context.Document)] = [] },
        ];
        operation.Responses ??= new OpenApiResponses();
        operation.Responses["401"] = new OpenApiResponse { Description = "No API key, or one that is not valid (problem details)." };
        if (admin) operation.Responses["403"] = new OpenApiResponse { Description = "The key is a client key; this needs an admin key (problem details)." };
        return Task.CompletedTask;
    }
}
