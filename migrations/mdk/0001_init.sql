-- API keys: the secret is never stored, only its SHA-256. The prefix is
-- public (shown in listings and logs) and is how a presented key is found.
CREATE TABLE mdk.api_keys (
    prefix      TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    role        TEXT NOT NULL,
    customer_id TEXT NOT NULL DEFAULT '',
    label       TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

-- Idempotency keys for requests that must not run twice (complete_checkout):
-- the first request with a key records its hash and, once done, its response;
-- a retry with the same key and hash gets the same response back.
CREATE TABLE mdk.idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       TEXT NOT NULL,
    response     TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expiry ON mdk.idempotency_keys (expires_at);

-- Events a consumer has handled, so at-least-once delivery is handled once.
CREATE TABLE mdk.processed_events (
    consumer     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    processed_at BIGINT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
