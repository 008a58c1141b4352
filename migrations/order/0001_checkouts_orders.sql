-- Checkout sessions and orders of commerce.order. "order" is an SQL
-- keyword, so the schema is always quoted. Lines, buyer, address and totals
-- are small JSON documents read and written whole with their row. Times
-- are unix milliseconds. No foreign keys into other schemas.
CREATE TABLE "order".checkouts (
    id                 TEXT PRIMARY KEY,
    -- customer: owned by customer_id; anonymous: the unguessable ID is the
    -- only credential.
    owner_kind         TEXT NOT NULL,
    customer_id        TEXT NOT NULL DEFAULT '',
    cart_id            TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL,
    currency           TEXT NOT NULL,
    lines              TEXT NOT NULL,
    buyer              TEXT NOT NULL DEFAULT '{}',
    shipping_address   TEXT NOT NULL DEFAULT '{}',
    fulfillment_option TEXT NOT NULL DEFAULT '',
    payment_token      TEXT NOT NULL DEFAULT '',
    order_id           TEXT NOT NULL DEFAULT '',
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    CHECK (owner_kind IN ('customer', 'anonymous'))
);

CREATE TABLE "order".orders (
    id               TEXT PRIMARY KEY,
    -- One order per checkout: a re-run of the saga finds it.
    checkout_id      TEXT NOT NULL UNIQUE,
    cart_id          TEXT NOT NULL DEFAULT '',
    owner_kind       TEXT NOT NULL,
    customer_id      TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL,
    currency         TEXT NOT NULL,
    lines            TEXT NOT NULL,
    totals           TEXT NOT NULL,
    total            BIGINT NOT NULL,
    refunded         BIGINT NOT NULL DEFAULT 0,
    payment_id       TEXT NOT NULL DEFAULT '',
    payment_status   TEXT NOT NULL DEFAULT '',
    reservation_ids  TEXT NOT NULL DEFAULT '[]',
    tracking_number  TEXT NOT NULL DEFAULT '',
    -- When the saga confirmed the order; 0 for an order whose checkout
    -- never completed (pending, or canceled by compensation), which lists
    -- leave out.
    placed_at        BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX orders_customer ON "order".orders (customer_id, placed_at);
CREATE INDEX orders_status ON "order".orders (status, placed_at);
