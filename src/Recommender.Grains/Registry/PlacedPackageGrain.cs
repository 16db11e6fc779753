using Recommender.Abstractions;
using Recommender.Grains.Catalogue;
using Recommender.Grains.Inference;
using Recommender.Model.Packaging;

namespace Recommender.Grains.Registry;

/// <summary>
/// Registers a package placed in the incoming directory: checks it off the catalogue (which stays free for item
/// writes and activations meanwhile), then has the catalogue move it into place and record it.
/// </summary>
[StatelessWorker(1)]
public sealed class PlacedPackageGrain(ModelRegistry models) : Grain, IPlacedPackageGrain
{
    public async Task<ModelRegistration> Register(string version)
    {
        if (!ModelPackage.IsValidVersion(version))
            return new ModelRegistration(null, [new UploadError("version", $"'{version}' is not a valid model version (letters, digits, '.', '_' and '-', starting with a letter or digit).")]);
        var catalogue = GrainFactory.GetGrain<ICatalogueGrain>(0);
        if (await catalogue.GetModel(version) is not null)
            return new ModelRegistration(null, [new UploadError("version", $"Version '{version}' is already registered.")], Conflict: true);
        var directory = models.IncomingPathOf(version);
        if (!File.Exists(Path.Combine(directory, ModelPackage.ManifestFile)))
            return new ModelRegistration(null, [new UploadError("version", $"No package is placed at {directory} (no {ModelPackage.ManifestFile}): copy the package directory there first, where every silo reads it.")], NotFound: true);
        var (package, errors) = await Task.Run(() => PlacedPackageValidator.Validate(version, directory));
        if (package is null) return new ModelRegistration(null, errors);
        return await catalogue.AdoptPlacedModel(new Immutable<ModelInfo>(CatalogueGrain.Describe(package, fallback: false)));
    }
}
