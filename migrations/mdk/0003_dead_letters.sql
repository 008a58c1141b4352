-- Events a subscription gave up on after its last attempt, from either bus,
-- kept for operators (list_dead_letters) to inspect and replay by hand. One
-- row per subscription and event: dead-lettering the same event again
-- updates it.
CREATE TABLE mdk.dead_letters (
    subscription TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    subject      TEXT NOT NULL,
    data         TEXT NOT NULL,
    occurred_at  BIGINT NOT NULL,
    attempts     INTEGER NOT NULL,
    error        TEXT NOT NULL,
    instance     TEXT NOT NULL DEFAULT '',
    dead_at      BIGINT NOT NULL,
    PRIMARY KEY (subscription, event_id)
);
CREATE INDEX dead_letters_dead_at ON mdk.dead_letters (dead_at);
