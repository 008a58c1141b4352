-- Carts of commerce.cart. A cart is one row: its lines are a small JSON
-- array (at most HYPERRR_CART_MAX_LINES entries) read and written whole, as
-- the aggregate it is. Prices are not stored: they come from the catalog
-- when the cart is read. Times are unix milliseconds. No foreign keys:
-- variant IDs belong to the product schema.
CREATE TABLE cart.carts (
    id          TEXT PRIMARY KEY,
    -- customer: owned by customer_id; anonymous: the unguessable ID is
    -- the only credential.
    owner_kind  TEXT NOT NULL,
    customer_id TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL, -- active, canceled, expired, completed
    lines       TEXT NOT NULL DEFAULT '[]',
    buyer       TEXT NOT NULL DEFAULT '{}',
    -- The currency of the catalog prices last seen for this cart, so an
    -- emptied cart still reports one.
    currency    TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    CHECK (owner_kind IN ('customer', 'anonymous')),
    CHECK (status IN ('active', 'canceled', 'expired', 'completed'))
);
-- The sweeper finds idle active carts by last change.
CREATE INDEX carts_status_updated ON cart.carts (status, updated_at);
CREATE INDEX carts_customer ON cart.carts (customer_id, updated_at) WHERE customer_id <> '';
