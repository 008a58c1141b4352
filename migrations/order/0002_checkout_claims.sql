-- complete_checkout claims a checkout (complete_in_progress) and then
-- journals its saga run; a crash between the two used to leave the
-- checkout claimed forever. The claim now records the run's key and time
-- in the same transaction, so the claim sweeper can ask the workflow
-- journal whether the run exists and settle the checkout when it doesn't
-- (or when the run ended without settling it).
ALTER TABLE "order".checkouts ADD COLUMN claim_run_key TEXT NOT NULL DEFAULT '';
ALTER TABLE "order".checkouts ADD COLUMN claimed_at BIGINT NOT NULL DEFAULT 0;
-- Checkouts claimed before this migration have no key; their claim time is
-- their last change.
UPDATE "order".checkouts SET claimed_at = updated_at WHERE status = 'complete_in_progress';
CREATE INDEX checkouts_claimed ON "order".checkouts (status, claimed_at);
