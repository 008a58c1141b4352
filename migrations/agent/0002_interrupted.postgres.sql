-- A proposal whose applying instance stopped before it finished is
-- resolved as interrupted (tools/agent lease.go).
ALTER TABLE agent.proposals DROP CONSTRAINT proposals_status_check;
ALTER TABLE agent.proposals ADD CONSTRAINT proposals_status_check
    CHECK (status IN ('pending', 'applying', 'applied', 'failed', 'declined', 'expired', 'interrupted'));
