-- A turn's hold on a conversation was not tied to the turn: an instance
-- that stalled for over a lease (so the sweeper or another turn took the
-- conversation) could still renew or clear the new holder's hold. Each
-- hold now gets a random token, and renewing, releasing and recording a
-- turn's writes only succeed with the token of the current hold
-- (tools/agent lease.go).
ALTER TABLE agent.conversations ADD COLUMN busy_token TEXT NOT NULL DEFAULT '';
