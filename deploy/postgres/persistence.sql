-- Orleans ADO.NET grain storage on PostgreSQL.
--
-- Idempotent: re-running creates nothing twice and refreshes the query texts.
-- A grain's identity is (ServiceId, GrainTypeHash, GrainTypeString, GrainIdHash,
-- GrainIdN0, GrainIdN1, GrainIdExtensionString) and is the primary key, so a
-- second row for the same grain cannot exist. The key extension is stored as ''
-- when Orleans passes NULL, which keeps the key free of NULLs.
--
-- Version is the optimistic-concurrency tag (Orleans' ETag): the first write
-- inserts version 1; later writes and clears succeed only when the caller sends
-- the stored version. Every write/clear returns exactly one row whose
-- NewGrainStateVersion is NULL on a conflict, which Orleans turns into an
-- InconsistentStateException.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL PRIMARY KEY,
    QueryText text        NOT NULL
);

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    ServiceId              varchar(150) NOT NULL,
    GrainTypeHash          integer      NOT NULL,
    GrainTypeString        varchar(512) NOT NULL,
    GrainIdHash            integer      NOT NULL,
    GrainIdN0              bigint       NOT NULL,
    GrainIdN1              bigint       NOT NULL,
    GrainIdExtensionString varchar(1024) NOT NULL DEFAULT '',
    PayloadBinary          bytea,
    ModifiedOn             timestamptz  NOT NULL DEFAULT now(),
    Version                integer      NOT NULL,
    CONSTRAINT PK_OrleansStorage PRIMARY KEY
        (GrainIdHash, GrainTypeHash, ServiceId, GrainIdN0, GrainIdN1, GrainTypeString, GrainIdExtensionString)
);

-- A user or item key runs to 769 characters: '~' and an id of 256 characters whose braces and '%' are spelt as
-- three (src/Recommender.Abstractions/GrainKeys.cs). Tables created with room for 512 are widened in place (a
-- catalogue change only: a longer varchar needs no rewrite of the table or its index).
ALTER TABLE OrleansStorage ALTER COLUMN GrainIdExtensionString TYPE varchar(1024);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

('ReadFromStorageKey', '
SELECT PayloadBinary, Version
FROM OrleansStorage
WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
    AND ServiceId = @ServiceId
    AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
    AND GrainTypeString = @GrainTypeString
    AND GrainIdExtensionString = coalesce(CAST(@GrainIdExtensionString AS varchar), '''');
'),

-- Update when a version is sent, insert version 1 when none is; one statement,
-- so a conflicting concurrent insert of the same grain yields NULL, not a second row.
('WriteToStorageKey', '
WITH updated AS (
    UPDATE OrleansStorage
    SET PayloadBinary = @PayloadBinary, Version = Version + 1, ModifiedOn = now()
    WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
        AND ServiceId = @ServiceId
        AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
        AND GrainTypeString = @GrainTypeString
        AND GrainIdExtensionString = coalesce(CAST(@GrainIdExtensionString AS varchar), '''')
        AND Version = CAST(@GrainStateVersion AS integer)
    RETURNING Version
), inserted AS (
    INSERT INTO OrleansStorage
        (ServiceId, GrainTypeHash, GrainTypeString, GrainIdHash, GrainIdN0, GrainIdN1,
         GrainIdExtensionString, PayloadBinary, Version)
    SELECT @ServiceId, @GrainTypeHash, @GrainTypeString, @GrainIdHash, @GrainIdN0, @GrainIdN1,
        coalesce(CAST(@GrainIdExtensionString AS varchar), ''''), @PayloadBinary, 1
    WHERE CAST(@GrainStateVersion AS integer) IS NULL
    ON CONFLICT ON CONSTRAINT PK_OrleansStorage DO NOTHING
    RETURNING Version
)
SELECT (SELECT Version FROM updated UNION ALL SELECT Version FROM inserted LIMIT 1) AS NewGrainStateVersion;
'),

-- Clearing keeps the row (and its version history) with a NULL payload; clearing
-- a grain that was never written records an empty state at version 1.
('ClearStorageKey', '
WITH updated AS (
    UPDATE OrleansStorage
    SET PayloadBinary = NULL, Version = Version + 1, ModifiedOn = now()
    WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
        AND ServiceId = @ServiceId
        AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
        AND GrainTypeString = @GrainTypeString
        AND GrainIdExtensionString = coalesce(CAST(@GrainIdExtensionString AS varchar), '''')
        AND Version = CAST(@GrainStateVersion AS integer)
    RETURNING Version
), inserted AS (
    INSERT INTO OrleansStorage
        (ServiceId, GrainTypeHash, GrainTypeString, GrainIdHash, GrainIdN0, GrainIdN1,
         GrainIdExtensionString, PayloadBinary, Version)
    SELECT @ServiceId, @GrainTypeHash, @GrainTypeString, @GrainIdHash, @GrainIdN0, @GrainIdN1,
        coalesce(CAST(@GrainIdExtensionString AS varchar), ''''), NULL, 1
    WHERE CAST(@GrainStateVersion AS integer) IS NULL
    ON CONFLICT ON CONSTRAINT PK_OrleansStorage DO NOTHING
    RETURNING Version
)
SELECT (SELECT Version FROM updated UNION ALL SELECT Version FROM inserted LIMIT 1) AS NewGrainStateVersion;
')

ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;

-- Bulk-loaded items (POST /items, the demo and seed loads), one row each, so that a bulk write costs what it writes
-- however large the catalogue. Payload is the item's details in the Orleans binary format; ImportedAt is UTC ticks
-- (100 ns), exact, so that the newer of a bulk load and a PUT of the same item wins. Bucket is the item's bucket
-- (src/Recommender.Abstractions/ItemBuckets.cs), whose grain reads its ids on activation.
CREATE TABLE IF NOT EXISTS RecommenderBulkItems
(
    ServiceId  varchar(150) NOT NULL,
    ItemId     text         NOT NULL,
    Bucket     integer      NOT NULL,
    Payload    bytea        NOT NULL,
    ImportedAt bigint       NOT NULL,
    CONSTRAINT PK_RecommenderBulkItems PRIMARY KEY (ServiceId, ItemId)
);

CREATE INDEX IF NOT EXISTS IX_RecommenderBulkItems_Bucket ON RecommenderBulkItems (ServiceId, Bucket);

-- Rows a grain keeps beside its grain state, one per owner and key (a shard's entries, the catalogue's placements of
-- added items and its text items), so that writing one item costs one row however large the catalogue. Payload is
-- the value in the Orleans binary format. Seq keeps the order in which keys were first written: an upsert leaves it
-- as it was, and a shard replays its entries in that order to give every item its row again.
CREATE TABLE IF NOT EXISTS RecommenderGrainRows
(
    Seq       bigint       GENERATED ALWAYS AS IDENTITY,
    ServiceId varchar(150) NOT NULL,
    Owner     text         NOT NULL,
    RowKey    text         NOT NULL,
    Payload   bytea        NOT NULL,
    CONSTRAINT PK_RecommenderGrainRows PRIMARY KEY (ServiceId, Owner, RowKey)
);
