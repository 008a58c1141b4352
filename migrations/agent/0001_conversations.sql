-- Conversations of the catalog agent (tools.agent). A conversation belongs
-- to the merchant API key that started it (owner = the key's public
-- prefix); messages are the provider-neutral JSON of each chat message,
-- tool calls and results included, in order. Times are unix milliseconds.
CREATE TABLE agent.conversations (
    id         TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    -- A turn holds the conversation until busy_until, so two requests on
    -- one conversation never interleave their messages or apply one
    -- proposal twice.
    busy_until BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX conversations_owner ON agent.conversations (owner, updated_at);

CREATE TABLE agent.messages (
    conversation_id TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);

-- A proposal is a set of operation calls the model asked for that need the
-- merchant's confirmation; confirming runs exactly these calls.
CREATE TABLE agent.proposals (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    status          TEXT NOT NULL,
    calls           TEXT NOT NULL,
    reasons         TEXT NOT NULL,
    results         TEXT NOT NULL DEFAULT '[]',
    created_at      BIGINT NOT NULL,
    decided_at      BIGINT NOT NULL DEFAULT 0,
    CHECK (status IN ('pending', 'applying', 'applied', 'failed', 'declined', 'expired'))
);
CREATE INDEX proposals_conversation ON agent.proposals (conversation_id, created_at);
