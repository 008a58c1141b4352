-- A proposal whose applying instance stopped before it finished is
-- resolved as interrupted (tools/agent lease.go). SQLite can't change a
-- CHECK constraint, so the table is rebuilt.
CREATE TABLE agent.proposals_v2 (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    status          TEXT NOT NULL,
    calls           TEXT NOT NULL,
    reasons         TEXT NOT NULL,
    results         TEXT NOT NULL DEFAULT '[]',
    created_at      BIGINT NOT NULL,
    decided_at      BIGINT NOT NULL DEFAULT 0,
    CHECK (status IN ('pending', 'applying', 'applied', 'failed', 'declined', 'expired', 'interrupted'))
);
INSERT INTO agent.proposals_v2 (id, conversation_id, status, calls, reasons, results, created_at, decided_at)
    SELECT id, conversation_id, status, calls, reasons, results, created_at, decided_at FROM agent.proposals;
DROP TABLE agent.proposals;
ALTER TABLE agent.proposals_v2 RENAME TO proposals;
CREATE INDEX proposals_conversation ON agent.proposals (conversation_id, created_at);
