using Recommender.Api;
using Recommender.Hosting;

// An embedded node runs a silo in-process, so its Orleans ports must be free as well as its HTTP one.
return await HostRunner.RunAsync(() => RecommenderApi.Build(args),
    hostsSilo: configuration => RecommenderSiloExtensions.Bind(configuration).Mode == HostingMode.Embedded);
