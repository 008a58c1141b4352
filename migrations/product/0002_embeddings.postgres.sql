-- Product embeddings, one per product and model (little-endian float32s).
-- content_hash is the hash of the text that was embedded: a product whose
-- text changed, or a new model, is re-embedded in the background.
CREATE TABLE product.embeddings (
    product_id   TEXT NOT NULL,
    model        TEXT NOT NULL,
    dimensions   INTEGER NOT NULL,
    vector       BYTEA NOT NULL,
    content_hash TEXT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (product_id, model)
);
