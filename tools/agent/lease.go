package agent

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// A turn holds its conversation for one lease (Config.Lease) and renews
// the hold while it runs. A confirmed proposal is applied inside such a
// turn and records each call's outcome as it finishes, so the hold is also
// the lease of the proposal: a proposal still applying in a conversation
// nobody holds was left by an instance that stopped. Whoever holds the
// conversation next (the merchant's next turn, or the sweeper) resolves it
// as interrupted from the recorded outcomes.

// keepHeld renews the hold with token on conversation id every third of
// the lease until the returned stop is called; stop waits for the renewer
// to end, so a release after it is final. A renewal that finds the hold
// gone (this instance stalled for over a lease and another turn or the
// sweeper took the conversation) ends the renewals: the turn's further
// writes then fail as stillHeld says.
func (s *Service) keepHeld(ctx context.Context, id, token string) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(s.cfg.Lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				err := s.store.renew(ctx, id, token, s.cfg.Lease)
				if mdk.ErrorCode(err) == mdk.CodeConflict {
					s.log.Warn("conversation hold lost: the turn's writes will fail", "conversation", id)
					return
				}
				if err != nil && ctx.Err() == nil {
					s.log.Warn("renew conversation hold", "conversation", id, "err", err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// ResolveInterrupted resolves every proposal left applying in a
// conversation whose hold has lapsed (see resolveInterrupted) and returns
// how many it resolved. The module's sweeper calls it once per lease; it is
// safe to run on several instances at once, as each conversation is held
// while it is resolved.
func (s *Service) ResolveInterrupted(ctx context.Context) (int, error) {
	convs, err := s.store.stale(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range convs {
		token, err := s.store.take(ctx, c.ID, s.cfg.Lease)
		if err != nil {
			return n, err
		}
		if token == "" {
			continue // a turn took it first and resolves it itself
		}
		done, err := s.resolveInterrupted(ctx, c.ID, token, c.Owner)
		if rerr := s.store.release(ctx, c.ID, token); rerr != nil {
			s.log.Warn("conversation stays busy until its lease ends", "conversation", c.ID, "err", rerr)
		}
		if err != nil {
			return n, err
		}
		n += len(done)
	}
	return n, nil
}

// resolveInterrupted marks the proposals still applying in conversation
// id interrupted. The caller holds the conversation (with token), so their instance is
// gone. Each call's recorded outcome is kept; the first call without one
// may or may not have run (the instance stopped while running it, or just
// before), and the rest did not run. The conversation gets the calls and
// their outcomes, so the model knows what happened too.
func (s *Service) resolveInterrupted(ctx context.Context, id, token, owner string) ([]Proposal, error) {
	props, err := s.store.applying(ctx, id)
	if err != nil || len(props) == 0 {
		return nil, err
	}
	for i := range props {
		p := &props[i]
		recorded := len(p.Results)
		for j := recorded; j < len(p.Calls); j++ {
			c := p.Calls[j]
			o := Outcome{CallID: callID(p, j), Name: c.Name}
			if j == recorded {
				o.Errors = []*mdk.Error{mdk.Errorf(mdk.CodeUnavailable,
					"unknown: the server applying proposal %s stopped while or just before running this call, so it may or may not have been applied; check before repeating it", p.ID)}
			} else {
				o.Skipped = true
				o.Errors = []*mdk.Error{mdk.Errorf(mdk.CodeUnavailable, "not applied: the server applying proposal %s stopped before this call", p.ID)}
			}
			p.Results = append(p.Results, o)
		}
		p.Status, p.Decided = ProposalInterrupted, s.store.now().UTC()
		summary := interruptedSummary(*p)
		rec := record{
			decided:  p,
			messages: proposalMessages(*p, summary),
			actions:  []Action{{Kind: "interrupted", ProposalID: p.ID, Error: summary}},
		}
		if err := s.store.write(ctx, id, token, owner, rec); err != nil {
			return nil, err
		}
		s.log.Warn("agent proposal interrupted", "conversation", id, "proposal", p.ID, "applied", applied(p.Results))
	}
	return props, nil
}

// interruptedSummary tells the merchant what an interrupted proposal did.
func interruptedSummary(p Proposal) string {
	var unknown, skipped []string
	for i, o := range p.Results {
		switch {
		case o.Skipped:
			skipped = append(skipped, fmt.Sprintf("%d (%s)", i+1, o.Name))
		case !o.OK && len(o.Errors) > 0 && strings.HasPrefix(o.Errors[0].Message, "unknown:"):
			unknown = append(unknown, fmt.Sprintf("%d (%s)", i+1, o.Name))
		}
	}
	msg := fmt.Sprintf("Proposal %s was interrupted: the server applying it stopped. %d of %d change(s) were made.", p.ID, applied(p.Results), len(p.Calls))
	if len(unknown) > 0 {
		msg += fmt.Sprintf(" Call %s may or may not have been applied: check it.", strings.Join(unknown, ", "))
	}
	if len(skipped) > 0 {
		msg += fmt.Sprintf(" Not applied: call %s.", strings.Join(skipped, ", "))
	}
	return msg + " Ask again to finish the change."
}

func applied(results []Outcome) int {
	n := 0
	for _, o := range results {
		if o.OK {
			n++
		}
	}
	return n
}

// newHoldToken makes the token of one hold on a conversation. Renewing,
// releasing and writing for a turn only succeed with the token of the
// current hold, so an instance that lost its hold can't touch the holder's.
func newHoldToken() (string, error) { return mdk.SecretID("hold_", 12) }

// renew extends the hold with token on conversation id by lease from now.
// Errors: conflict when the hold is gone (see errHoldLost).
func (s *store) renew(ctx context.Context, id, token string, lease time.Duration) error {
	res, err := s.db.ExecContext(ctx, `UPDATE agent.conversations SET busy_until = $1 WHERE id = $2 AND busy_token = $3`,
		s.now().Add(lease).UnixMilli(), id, token)
	if err != nil {
		return fmt.Errorf("renew conversation hold: %w", err)
	}
	return heldRow(res, id)
}

// take holds conversation id for lease if nobody holds it, whoever owns
// it, and returns the hold's token, or "" when someone else holds it.
func (s *store) take(ctx context.Context, id string, lease time.Duration) (string, error) {
	token, err := newHoldToken()
	if err != nil {
		return "", err
	}
	now := s.now()
	res, err := s.db.ExecContext(ctx, `UPDATE agent.conversations SET busy_until = $1, busy_token = $2 WHERE id = $3 AND busy_until < $4`,
		now.Add(lease).UnixMilli(), token, id, now.UnixMilli())
	if err != nil {
		return "", fmt.Errorf("hold conversation: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return "", fmt.Errorf("hold conversation: %w", err)
	}
	if n != 1 {
		return "", nil
	}
	return token, nil
}

// stillHeld touches conversation id inside tx if it is still held with
// token, so a turn's writes commit only while it holds the conversation
// (on PostgreSQL the row stays locked until tx ends, so a take waits).
// Errors: conflict when the hold is gone.
func stillHeld(ctx context.Context, tx *sqldb.Tx, id, token string, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE agent.conversations SET updated_at = $1 WHERE id = $2 AND busy_token = $3`, now.UnixMilli(), id, token)
	if err != nil {
		return fmt.Errorf("touch conversation: %w", err)
	}
	return heldRow(res, id)
}

// heldRow checks that an update of conversation id, made only while it is
// held with a token, changed it. If not, this instance lost its hold: it
// stalled for over a lease and another turn or the sweeper took the
// conversation (and resolved a proposal it was applying as interrupted).
func heldRow(res sql.Result, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("check conversation hold: %w", err)
	}
	if n != 1 {
		return mdk.Errorf(mdk.CodeConflict, "conversation %s was taken over while this server answered it (it could not renew its hold for a lease); nothing more of this turn was recorded: read the conversation and ask again", id)
	}
	return nil
}

// staleConversation is a conversation nobody holds with a proposal still
// applying.
type staleConversation struct{ ID, Owner string }

func (s *store) stale(ctx context.Context) ([]staleConversation, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT c.id, c.owner FROM agent.proposals p
		JOIN agent.conversations c ON c.id = p.conversation_id
		WHERE p.status = $1 AND c.busy_until < $2`, string(ProposalApplying), s.now().UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("find interrupted proposals: %w", err)
	}
	defer rows.Close()
	var out []staleConversation
	for rows.Next() {
		var c staleConversation
		if err := rows.Scan(&c.ID, &c.Owner); err != nil {
			return nil, fmt.Errorf("find interrupted proposals: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find interrupted proposals: %w", err)
	}
	return out, nil
}

// applying returns conversation id's proposals in status applying, with
// the outcomes recorded so far.
func (s *store) applying(ctx context.Context, id string) ([]Proposal, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, calls, reasons, results, created_at FROM agent.proposals
		WHERE conversation_id = $1 AND status = $2 ORDER BY created_at`, id, string(ProposalApplying))
	if err != nil {
		return nil, fmt.Errorf("find applying proposals: %w", err)
	}
	defer rows.Close()
	var out []Proposal
	for rows.Next() {
		p := Proposal{ConversationID: id, Status: ProposalApplying}
		var calls, reasons, results string
		var created int64
		if err := rows.Scan(&p.ID, &calls, &reasons, &results, &created); err != nil {
			return nil, fmt.Errorf("find applying proposals: %w", err)
		}
		for _, f := range []struct {
			raw string
			v   any
		}{{calls, &p.Calls}, {reasons, &p.Reasons}, {results, &p.Results}} {
			if err := json.Unmarshal([]byte(f.raw), f.v); err != nil {
				return nil, fmt.Errorf("decode proposal %s: %w", p.ID, err)
			}
		}
		p.Created = time.UnixMilli(created).UTC()
		p.Summary = describe(p.Calls)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find applying proposals: %w", err)
	}
	return out, nil
}

// progress records the outcomes so far of proposal p, which is applying,
// with the audit event of the call that just ran, in one transaction: an
// instance that stops later leaves them for resolveInterrupted. Like write,
// it runs even when the client has left, and only while the conversation is
// held with token.
func (s *store) progress(ctx context.Context, token, keyID string, p *Proposal, a Action) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	results, err := json.Marshal(p.Results)
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	a.ConversationID, a.KeyID = p.ConversationID, keyID
	e, err := mdk.NewEvent(EventAction, p.ConversationID, a)
	if err != nil {
		return err
	}
	err = s.db.Tx(ctx, func(tx *sqldb.Tx) error {
		if err := stillHeld(ctx, tx, p.ConversationID, token, s.now()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE agent.proposals SET results = $1 WHERE id = $2 AND status = $3`,
			string(results), p.ID, string(ProposalApplying))
		if err := stillApplying(res, err, p.ID); err != nil {
			return err
		}
		return s.outbox.Emit(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("record progress of proposal %s: %w", p.ID, err)
	}
	return nil
}

// stillApplying checks that an update of proposal id, made only while it
// is applying, changed it. If not, this instance lost its hold (it could not
// renew it for a lease) and the proposal was resolved as interrupted
// meanwhile: the caller must stop applying it.
func stillApplying(res sql.Result, err error, id string) error {
	if err != nil {
		return fmt.Errorf("update proposal: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update proposal: %w", err)
	}
	if n != 1 {
		return mdk.Errorf(mdk.CodeConflict, "proposal %s was resolved as interrupted while this server applied it (it could not renew its hold); the conversation says which calls ran", id)
	}
	return nil
}
