-- The catalog of commerce.product. JSON-valued columns are TEXT so both
-- engines share the SQL; times are unix milliseconds; money is integer
-- minor units with the currency beside it. No foreign keys: SQLite cannot
-- name another schema's table in REFERENCES, and the module keeps its own
-- rows consistent in transactions.
CREATE TABLE product.products (
    id           TEXT PRIMARY KEY,
    handle       TEXT NOT NULL,
    external_id  TEXT,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    vendor       TEXT NOT NULL DEFAULT '',
    product_type TEXT NOT NULL DEFAULT '',
    category     TEXT NOT NULL DEFAULT '',
    tags         TEXT NOT NULL DEFAULT '[]',
    attributes   TEXT NOT NULL DEFAULT '{}',
    media        TEXT NOT NULL DEFAULT '[]',
    options      TEXT NOT NULL DEFAULT '[]',
    status       TEXT NOT NULL,
    -- Hash of the content last written by an import, so re-importing an
    -- unchanged row is a no-op (no write, no event).
    content_hash TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX products_handle ON product.products (handle);
CREATE UNIQUE INDEX products_external_id ON product.products (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX products_status_created ON product.products (status, created_at);

CREATE TABLE product.variants (
    id               TEXT PRIMARY KEY,
    product_id       TEXT NOT NULL,
    position         INTEGER NOT NULL DEFAULT 0,
    sku              TEXT NOT NULL,
    title            TEXT NOT NULL DEFAULT '',
    options          TEXT NOT NULL DEFAULT '{}',
    price            BIGINT NOT NULL,
    compare_at_price BIGINT,
    currency         TEXT NOT NULL,
    barcode          TEXT NOT NULL DEFAULT '',
    weight_grams     BIGINT NOT NULL DEFAULT 0,
    on_hand          BIGINT NOT NULL DEFAULT 0,
    reserved         BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    CHECK (price >= 0),
    CHECK (on_hand >= 0 AND reserved >= 0)
);
CREATE UNIQUE INDEX variants_sku ON product.variants (sku);
CREATE INDEX variants_product ON product.variants (product_id, position);

-- A hold on stock for a checkout. Reserving is one conditional UPDATE of
-- variants.reserved (... WHERE on_hand - reserved >= qty); the row records
-- the hold so it can be committed (order placed), released (cancel) or
-- expired by the sweeper, each exactly once.
CREATE TABLE product.reservations (
    id         TEXT PRIMARY KEY,
    variant_id TEXT NOT NULL,
    quantity   BIGINT NOT NULL,
    status     TEXT NOT NULL, -- held, committed, released, expired
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (quantity > 0)
);
CREATE INDEX reservations_status_expiry ON product.reservations (status, expires_at);
