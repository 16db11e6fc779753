namespace Recommender.Abstractions;

/// <summary>A user's behaviour history and interest vector. Key: the user id.</summary>
[Alias("recommender.IUserGrain")]
public interface IUserGrain : IGrainWithStringKey
{
    /// <summary>Records events (any order, repeats ignored); returns once they are persisted.</summary>
    [Alias("Ingest")]
    Task<IngestResult> Ingest(Immutable<UserEvent[]> events);

    /// <summary>The most recent <paramref name="limit"/> events in timestamp order (all retained events when null).</summary>
    [Alias("GetHistory")]
    Task<UserHistoryView> GetHistory(int? limit);

    [Alias("Recommend")]
    Task<Ranking> Recommend(int k);
}

/// <summary>Catalogue details of one item. Key: the external item id.</summary>
[Alias("recommender.IItemGrain")]
public interface IItemGrain : IGrainWithStringKey
{
    /// <summary>Creates or replaces the item and places it in the active model's shards when it has (or can get) a vector.</summary>
    [Alias("Upsert")]
    Task<ItemView> Upsert(ItemDetails details);

    /// <summary>Stores details without placing them (bulk loading, where the caller places the items in one pass).</summary>
    [Alias("Import")]
    Task Import(ItemDetails details);

    [Alias("Get")]
    Task<ItemView?> Get();

    [Alias("Exists")]
    Task<bool> Exists();
}

/// <summary>
/// The registry: the active model version, where every item's vector lives, the popularity list and whether the
/// demo has been loaded. A singleton (key 0); hot paths read it through each silo's cached snapshot.
/// </summary>
[Alias("recommender.ICatalogueGrain")]
public interface ICatalogueGrain : IGrainWithIntegerKey
{
    [Alias("GetSnapshot")]
    Task<CatalogueSnapshot> GetSnapshot();

    /// <summary>Makes a stored model package the active one, partitioned into <paramref name="shards"/> shards.</summary>
    [Alias("ActivateModel")]
    Task<ActiveModel> ActivateModel(string version, int shards);

    /// <summary>Places items in the active model's shards: model items in their fixed shard, others (with a vector) where there is most room.</summary>
    [Alias("PlaceItems")]
    Task<IReadOnlyList<ItemPlacement?>> PlaceItems(Immutable<ShardEntry[]> entries);

    [Alias("GetPlacement")]
    Task<ItemPlacement?> GetPlacement(string itemId);

    [Alias("SetPopular")]
    Task SetPopular(Immutable<PopularItem[]> items);

    /// <summary>Claims the one-off demo load for <paramref name="owner"/>; false when it is done or another owner holds a live claim.</summary>
    [Alias("TryClaimSeeding")]
    Task<bool> TryClaimSeeding(string owner);

    [Alias("CompleteSeeding")]
    Task CompleteSeeding(string owner, int itemCount);
}

/// <summary>A partition of one model version's item vectors. Key: "{version}/{shard index}".</summary>
[Alias("recommender.IItemShardGrain")]
public interface IItemShardGrain : IGrainWithStringKey
{
    /// <summary>The top <paramref name="k"/> rows by similarity to <paramref name="query"/> (float32 bytes), skipping <paramref name="exclude"/>.</summary>
    [Alias("TopK")]
    Task<Immutable<ScoredItem[]>> TopK(Immutable<byte[]> query, int k, Immutable<string[]> exclude);

    /// <summary>Adds or updates rows; returns each entry's row.</summary>
    [Alias("Upsert")]
    Task<int[]> Upsert(Immutable<ShardEntry[]> entries);

    /// <summary>The stored vector of an item (normalised when the model scores by cosine), or null.</summary>
    [Alias("GetVector")]
    Task<Immutable<byte[]>?> GetVector(string itemId);

    [Alias("Count")]
    Task<int> Count();
}

/// <summary>Turns histories into interest vectors with the model's ONNX encoder; a pool of stateless workers on every silo.</summary>
[Alias("recommender.IInferenceGrain")]
public interface IInferenceGrain : IGrainWithIntegerKey
{
    /// <summary>The interest vector (float32 bytes) of a chronological history of external item ids; ids outside the model's vocabulary are skipped.</summary>
    [Alias("Encode")]
    Task<Immutable<byte[]>> Encode(string modelVersion, Immutable<string[]> history);
}

/// <summary>Fans a query out to all shards of a model version and merges to the global top-K; stateless, runs beside its caller.</summary>
[Alias("recommender.ISearchGrain")]
public interface ISearchGrain : IGrainWithIntegerKey
{
    [Alias("Search")]
    Task<Ranking> Search(Immutable<byte[]> query, int k, Immutable<string[]> exclude, RankingSource source);

    /// <summary>Items nearest to an item's own vector.</summary>
    [Alias("Similar")]
    Task<Ranking?> Similar(string itemId, int k);
}

/// <summary>
/// Bulk-loaded item details, a few hundred items per grain (key: <see cref="ItemBuckets.Of"/>), so that loading a
/// whole catalogue costs one write per bucket rather than one per item. An item grain falls back to its bucket
/// until the item is edited through the API.
/// </summary>
[Alias("recommender.IItemBucketGrain")]
public interface IItemBucketGrain : IGrainWithIntegerKey
{
    [Alias("Import")]
    Task Import(Immutable<ItemDetails[]> items);

    [Alias("Get")]
    Task<ItemDetails?> Get(string itemId);
}
