using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Recommender.Grains;
using Recommender.Grains.Items;
using Recommender.Hosting.Sql;

namespace Recommender.Hosting;

/// <summary>
/// Turns a retryable database failure escaping a grain call into a <see cref="StorageUnavailableException"/>, which
/// callers can recognise as retryable (<see cref="StorageFailures"/>). Other exceptions pass through unchanged.
/// </summary>
public sealed class StorageFailureFilter : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (Exception e) when (StorageFailures.Translate(e) is { } translated)
        {
            throw translated;
        }
    }
}

public static class StorageFailureExtensions
{
    /// <summary>
    /// Reports retryable database failures (PostgreSQL or SQLite) to callers as <see cref="StorageUnavailableException"/>: those of grain
    /// calls, and those of the grain storages and row stores registered so far (call this after them), which also
    /// fail grain activations. An activation that cannot read its state is answered to every caller of the grain for
    /// a few seconds, outside any grain call filter, and the driver's exceptions do not serialize.
    /// </summary>
    public static ISiloBuilder AddStorageFailureTranslation(this ISiloBuilder silo)
    {
        var services = silo.Services;
        Decorate<IGrainStorage>(services, keyed: true, inner => new TranslatingGrainStorage(inner));
        Decorate<IGrainRowStore>(services, keyed: false, inner => new TranslatingRowStore(inner));
        Decorate<IBulkItemStore>(services, keyed: false, inner => new TranslatingBulkItemStore(inner));
        return silo.AddIncomingGrainCallFilter<StorageFailureFilter>();
    }

    /// <summary>Replaces each registration of <typeparamref name="TService"/> with the same service wrapped.</summary>
    private static void Decorate<TService>(IServiceCollection services, bool keyed, Func<TService, TService> wrap) where TService : class
    {
        for (var i = 0; i < services.Count; i++)
        {
            var registered = services[i];
            if (registered.ServiceType != typeof(TService) || registered.IsKeyedService != keyed) continue;
            services[i] = keyed
                ? new ServiceDescriptor(typeof(TService), registered.ServiceKey, (sp, key) => wrap((TService)Create(sp, registered, key)), registered.Lifetime)
                : new ServiceDescriptor(typeof(TService), sp => wrap((TService)Create(sp, registered, null)), registered.Lifetime);
        }
    }

    private static object Create(IServiceProvider services, ServiceDescriptor registered, object? key) => registered.IsKeyedService
        ? registered.KeyedImplementationInstance ?? registered.KeyedImplementationFactory?.Invoke(services, key)
            ?? ActivatorUtilities.CreateInstance(services, registered.KeyedImplementationType!)
        : registered.ImplementationInstance ?? registered.ImplementationFactory?.Invoke(services)
            ?? ActivatorUtilities.CreateInstance(services, registered.ImplementationType!);
}
