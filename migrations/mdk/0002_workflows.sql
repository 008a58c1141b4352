-- Workflow (saga) journal of mdk/workflow: one row per run and one per node
-- of a run. Every write by the instance executing a run is conditional on it
-- still holding the run's lease, so a stalled instance cannot overwrite the
-- work of the one that took over.
CREATE TABLE mdk.workflow_runs (
    id                 TEXT PRIMARY KEY,
    workflow_id        TEXT NOT NULL,
    run_key            TEXT NOT NULL DEFAULT '', -- '' when started without a key
    input_hash         TEXT NOT NULL,            -- SHA-256 of input, to spot a key reused for another request
    input              TEXT NOT NULL,
    -- running, compensating, completed, failed, compensation_failed
    status             TEXT NOT NULL,
    output             TEXT,
    error              TEXT,                     -- JSON of the *mdk.Error that failed the run
    compensation_error TEXT,                     -- JSON of the first compensation that kept failing
    -- The instance executing the run and until when (unix ms); '' and 0 when
    -- no instance holds it, so that any instance may take it at once.
    lease_owner        TEXT NOT NULL DEFAULT '',
    lease_until        BIGINT NOT NULL DEFAULT 0,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);

-- Start with a key is idempotent: one run per workflow and non-empty key.
CREATE UNIQUE INDEX workflow_runs_key ON mdk.workflow_runs (workflow_id, run_key) WHERE run_key <> '';

-- The recovery loop looks for live runs whose lease has expired.
CREATE INDEX workflow_runs_lease ON mdk.workflow_runs (status, lease_until);

CREATE TABLE mdk.workflow_steps (
    run_id      TEXT NOT NULL,
    node        TEXT NOT NULL,
    step_id     TEXT NOT NULL,
    -- running, completed, failed, compensated, compensation_failed
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    input       TEXT,
    output      TEXT,
    error       TEXT,
    -- Completion order within the run (1, 2, ...), 0 until completed;
    -- compensation runs in reverse of it.
    seq         INTEGER NOT NULL DEFAULT 0,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT,
    PRIMARY KEY (run_id, node)
);
