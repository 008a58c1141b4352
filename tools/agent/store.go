package agent

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// EventAction is the audit event type: one per executed call, proposal and
// decision, with the conversation ID as subject.
const EventAction = "agent.action"

// Action is the data of an agent.action event.
type Action struct {
	ConversationID string `json:"conversation_id"`
	KeyID          string `json:"key_id"`
	// Kind: executed, proposed, confirmed, declined, expired, rejected (a
	// confirmed proposal failed its pre-flight check: nothing ran) or
	// interrupted (its applying instance stopped; see ProposalInterrupted).
	Kind       string          `json:"kind"`
	ProposalID string          `json:"proposal_id,omitempty"`
	Op         string          `json:"op,omitempty"`
	Arguments  json.RawMessage `json:"arguments,omitempty"`
	Outcome    string          `json:"outcome,omitempty"` // ok, or the error code
	Error      string          `json:"error,omitempty"`
}

// store keeps conversations, messages and proposals in the agent schema;
// every write that records an action emits its audit event in the same
// transaction.
type store struct {
	db     *sqldb.DB
	outbox mdk.Outbox
	now    func() time.Time
}

// create starts a conversation owned by owner, holds it for lease and
// returns its ID and the hold's token (see lease.go).
func (s *store) create(ctx context.Context, owner string, lease time.Duration) (id, token string, err error) {
	if id, err = mdk.SecretID("conv_", 12); err != nil {
		return "", "", err
	}
	if token, err = newHoldToken(); err != nil {
		return "", "", err
	}
	now := s.now()
	_, err = s.db.ExecContext(ctx, `INSERT INTO agent.conversations (id, owner, busy_until, busy_token, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
		id, owner, now.Add(lease).UnixMilli(), token, now.UnixMilli())
	if err != nil {
		return "", "", fmt.Errorf("create conversation: %w", err)
	}
	return id, token, nil
}

// hold claims conversation id for one turn and returns the hold's token.
// Errors: not_found (no such conversation of this owner), conflict
// (another turn holds it).
func (s *store) hold(ctx context.Context, id, owner string, lease time.Duration) (string, error) {
	token, err := newHoldToken()
	if err != nil {
		return "", err
	}
	now := s.now()
	res, err := s.db.ExecContext(ctx, `UPDATE agent.conversations SET busy_until = $1, busy_token = $2, updated_at = $3
		WHERE id = $4 AND owner = $5 AND busy_until < $3`, now.Add(lease).UnixMilli(), token, now.UnixMilli(), id, owner)
	if err != nil {
		return "", fmt.Errorf("hold conversation: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		if err != nil {
			return "", fmt.Errorf("hold conversation: %w", err)
		}
		return token, nil
	}
	var found int
	err = s.db.QueryRowContext(ctx, `SELECT 1 FROM agent.conversations WHERE id = $1 AND owner = $2`, id, owner).Scan(&found)
	if errors.Is(err, sql.ErrNoRows) {
		return "", mdk.NotFound("no conversation %q for this API key: leave conversation_id out to start one", id)
	}
	if err != nil {
		return "", fmt.Errorf("find conversation: %w", err)
	}
	return "", &mdk.Error{Code: mdk.CodeConflict, Retryable: true,
		Message: "another message in this conversation is still being answered: wait for it to finish"}
}

// release ends the hold with token on conversation id; a hold someone
// else took meanwhile stays. It uses a fresh context so a client that left
// does not keep the conversation busy.
func (s *store) release(ctx context.Context, id, token string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := s.db.ExecContext(ctx, `UPDATE agent.conversations SET busy_until = 0, busy_token = '' WHERE id = $1 AND busy_token = $2`, id, token); err != nil {
		return fmt.Errorf("release conversation: %w", err)
	}
	return nil
}

// conversation returns a conversation of owner with its messages.
// Errors: not_found.
func (s *store) conversation(ctx context.Context, id, owner string) (Conversation, error) {
	c := Conversation{ID: id, Owner: owner}
	var created, updated int64
	err := s.db.QueryRowContext(ctx, `SELECT created_at, updated_at FROM agent.conversations WHERE id = $1 AND owner = $2`, id, owner).Scan(&created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Conversation{}, mdk.NotFound("no conversation %q for this API key", id)
	}
	if err != nil {
		return Conversation{}, fmt.Errorf("load conversation: %w", err)
	}
	c.Created, c.Updated = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	rows, err := s.db.QueryContext(ctx, `SELECT body FROM agent.messages WHERE conversation_id = $1 ORDER BY seq`, id)
	if err != nil {
		return Conversation{}, fmt.Errorf("load messages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var body string
		var m Message
		if err := rows.Scan(&body); err != nil {
			return Conversation{}, fmt.Errorf("load messages: %w", err)
		}
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			return Conversation{}, fmt.Errorf("decode message of %s: %w", id, err)
		}
		c.Messages = append(c.Messages, m)
	}
	if err := rows.Err(); err != nil {
		return Conversation{}, fmt.Errorf("load messages: %w", err)
	}
	return c, nil
}

// record is what one step of a turn writes atomically.
type record struct {
	messages []Message
	actions  []Action
	// proposal is stored pending; older pending proposals expire first.
	proposal *Proposal
	// expirePending drops undecided proposals (the merchant moved on).
	expirePending bool
	// decided ends a proposal that was applying (applied, failed or
	// interrupted).
	decided *Proposal
}

// write stores rec for conversation id, held with token, in one
// transaction. It runs even when the client has left (ctx cancelled): calls
// that ran must be recorded. Errors: conflict when the hold was lost.
func (s *store) write(ctx context.Context, id, token, keyID string, rec record) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	now := s.now()
	err := s.db.Tx(ctx, func(tx *sqldb.Tx) error {
		// First, so a conversation taken over meanwhile gets none of it.
		if err := stillHeld(ctx, tx, id, token, now); err != nil {
			return err
		}
		var events []mdk.Event
		if rec.expirePending || rec.proposal != nil {
			expired, err := s.expire(ctx, tx, id, now)
			if err != nil {
				return err
			}
			for _, p := range expired {
				rec.actions = append(rec.actions, Action{Kind: "expired", ProposalID: p})
			}
		}
		if err := s.appendMessages(ctx, tx, id, rec.messages, now); err != nil {
			return err
		}
		if p := rec.proposal; p != nil {
			if err := s.insertProposal(ctx, tx, p); err != nil {
				return err
			}
		}
		if p := rec.decided; p != nil {
			results, err := json.Marshal(p.Results)
			if err != nil {
				return fmt.Errorf("encode results: %w", err)
			}
			res, err := tx.ExecContext(ctx, `UPDATE agent.proposals SET status = $1, results = $2, decided_at = $3 WHERE id = $4 AND status = $5`,
				string(p.Status), string(results), now.UnixMilli(), p.ID, string(ProposalApplying))
			if err := stillApplying(res, err, p.ID); err != nil {
				return err
			}
		}
		for _, a := range rec.actions {
			a.ConversationID, a.KeyID = id, keyID
			e, err := mdk.NewEvent(EventAction, id, a)
			if err != nil {
				return err
			}
			events = append(events, e)
		}
		return s.outbox.Emit(ctx, tx, events...)
	})
	if err != nil {
		return fmt.Errorf("record conversation %s: %w", id, err)
	}
	return nil
}

func (s *store) appendMessages(ctx context.Context, tx *sqldb.Tx, id string, msgs []Message, now time.Time) error {
	if len(msgs) == 0 {
		return nil
	}
	var seq int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM agent.messages WHERE conversation_id = $1`, id).Scan(&seq); err != nil {
		return fmt.Errorf("next message: %w", err)
	}
	for _, m := range msgs {
		body, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("encode message: %w", err)
		}
		seq++
		if _, err := tx.ExecContext(ctx, `INSERT INTO agent.messages (conversation_id, seq, body, created_at) VALUES ($1, $2, $3, $4)`,
			id, seq, string(body), now.UnixMilli()); err != nil {
			return fmt.Errorf("append message: %w", err)
		}
	}
	return nil
}

func (s *store) insertProposal(ctx context.Context, tx *sqldb.Tx, p *Proposal) error {
	calls, err := json.Marshal(p.Calls)
	if err != nil {
		return fmt.Errorf("encode calls: %w", err)
	}
	reasons, err := json.Marshal(p.Reasons)
	if err != nil {
		return fmt.Errorf("encode reasons: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO agent.proposals (id, conversation_id, status, calls, reasons, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		p.ID, p.ConversationID, string(ProposalPending), string(calls), string(reasons), p.Created.UnixMilli()); err != nil {
		return fmt.Errorf("store proposal: %w", err)
	}
	return nil
}

// expire marks the conversation's pending proposals expired and returns
// their IDs.
func (s *store) expire(ctx context.Context, tx *sqldb.Tx, id string, now time.Time) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM agent.proposals WHERE conversation_id = $1 AND status = $2`, id, string(ProposalPending))
	if err != nil {
		return nil, fmt.Errorf("find pending proposals: %w", err)
	}
	var ids []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return nil, fmt.Errorf("find pending proposals: %w", err)
		}
		ids = append(ids, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find pending proposals: %w", err)
	}
	if len(ids) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE agent.proposals SET status = $1, decided_at = $2 WHERE conversation_id = $3 AND status = $4`,
			string(ProposalExpired), now.UnixMilli(), id, string(ProposalPending)); err != nil {
			return nil, fmt.Errorf("expire proposals: %w", err)
		}
	}
	return ids, nil
}

// pending returns the conversation's pending proposal: the one named, or
// the latest when proposalID is empty. Errors: not_found, conflict (the
// proposal was already decided or expired).
func (s *store) pending(ctx context.Context, convID, proposalID string) (Proposal, error) {
	q := `SELECT id, status, calls, reasons, created_at FROM agent.proposals WHERE conversation_id = $1 AND id = $2`
	args := []any{convID, proposalID}
	if proposalID == "" {
		q = `SELECT id, status, calls, reasons, created_at FROM agent.proposals WHERE conversation_id = $1 AND status = $2 ORDER BY created_at DESC LIMIT 1`
		args = []any{convID, string(ProposalPending)}
	}
	var (
		p              = Proposal{ConversationID: convID}
		calls, reasons string
		created        int64
	)
	err := s.db.QueryRowContext(ctx, q, args...).Scan(&p.ID, &p.Status, &calls, &reasons, &created)
	if errors.Is(err, sql.ErrNoRows) {
		if proposalID == "" {
			return Proposal{}, mdk.NotFound("nothing is waiting for confirmation in this conversation")
		}
		return Proposal{}, mdk.NotFound("no proposal %q in this conversation", proposalID)
	}
	if err != nil {
		return Proposal{}, fmt.Errorf("load proposal: %w", err)
	}
	if p.Status != ProposalPending {
		return Proposal{}, &mdk.Error{Code: mdk.CodeConflict, Message: fmt.Sprintf("proposal %s is %s, not waiting for confirmation; ask again to get a new one", p.ID, p.Status)}
	}
	if err := json.Unmarshal([]byte(calls), &p.Calls); err != nil {
		return Proposal{}, fmt.Errorf("decode proposal calls: %w", err)
	}
	if err := json.Unmarshal([]byte(reasons), &p.Reasons); err != nil {
		return Proposal{}, fmt.Errorf("decode proposal reasons: %w", err)
	}
	p.Created = time.UnixMilli(created).UTC()
	return p, nil
}

// claim moves a pending proposal to status (applying or declined), so it
// is decided once even if two decisions race, and records the decision
// (kind confirmed or declined) as an audit event in the same transaction.
// Errors: conflict.
func (s *store) claim(ctx context.Context, keyID string, p Proposal, status ProposalStatus, kind string) error {
	e, err := mdk.NewEvent(EventAction, p.ConversationID, Action{ConversationID: p.ConversationID, KeyID: keyID, Kind: kind, ProposalID: p.ID})
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE agent.proposals SET status = $1, decided_at = $2 WHERE id = $3 AND status = $4`,
			string(status), s.now().UnixMilli(), p.ID, string(ProposalPending))
		if err != nil {
			return fmt.Errorf("claim proposal: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			if err != nil {
				return fmt.Errorf("claim proposal: %w", err)
			}
			return &mdk.Error{Code: mdk.CodeConflict, Message: fmt.Sprintf("proposal %s is no longer waiting for confirmation", p.ID)}
		}
		return s.outbox.Emit(ctx, tx, e)
	})
}

// list returns the owner's conversations, most recently active first.
func (s *store) list(ctx context.Context, owner string, limit int) ([]Conversation, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, created_at, updated_at FROM agent.conversations WHERE owner = $1 ORDER BY updated_at DESC, id LIMIT $2`, owner, limit)
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	defer rows.Close()
	var out []Conversation
	for rows.Next() {
		c := Conversation{Owner: owner}
		var created, updated int64
		if err := rows.Scan(&c.ID, &created, &updated); err != nil {
			return nil, fmt.Errorf("list conversations: %w", err)
		}
		c.Created, c.Updated = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	return out, nil
}
