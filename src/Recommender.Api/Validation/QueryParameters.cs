namespace Recommender.Api.Validation;

/// <summary>
/// Refuses a query parameter the endpoint does not read: a misspelt one (<c>?top=5</c>, <c>?exlude=2571</c>) would
/// otherwise be ignored and the answer would look right while not being what was asked for. The parameters an
/// endpoint reads are its handler's string and string[] parameters that are not route values; names match case-insensitively,
/// as minimal APIs bind them. A parameter given twice is refused too (minimal APIs would join the values with a
/// comma), except <c>exclude</c>, whose values are a comma-separated list anyway, and a parameter the handler
/// binds as a list (<c>string[]</c>), which is given once per value.
/// </summary>
public static class QueryParameters
{
    private const string Repeatable = "exclude";

    public static TBuilder RejectUnknownQueryParameters<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            var route = (endpoint as RouteEndpointBuilder)?.RoutePattern;
            endpoint.FilterFactories.Add((context, next) =>
            {
                var parameters = context.MethodInfo.GetParameters()
                    .Where(p => (p.ParameterType == typeof(string) || p.ParameterType == typeof(string[])) && p.Name is not null && route?.GetParameter(p.Name) is null)
                    .ToArray();
                var known = parameters.Select(p => p.Name!).ToArray();
                var repeatable = parameters.Where(p => p.ParameterType == typeof(string[])).Select(p => p.Name!).Append(Repeatable).ToArray();
                return invocation =>
                {
                    var errors = new ValidationErrors();
                    var query = invocation.HttpContext.Request.Query;
                    foreach (var name in query.Keys)
                        if (!known.Contains(name, StringComparer.OrdinalIgnoreCase))
                            errors.Add(name, known.Length == 0
                                ? $"'{name}' is not a query parameter here; this endpoint takes none."
                                : $"'{name}' is not a query parameter here; the parameters are {string.Join(", ", known)}.");
                        else if (query[name].Count > 1 && !repeatable.Contains(name, StringComparer.OrdinalIgnoreCase))
                        {
                            var canonical = known.First(k => k.Equals(name, StringComparison.OrdinalIgnoreCase));
                            errors.Add(canonical, $"'{canonical}' may be given once; it was given {query[name].Count} times.");
                        }
                    return errors.Any ? ValueTask.FromResult<object?>(Problems.Invalid(errors)) : next(invocation);
                };
            });
        });
        return builder;
    }
}
