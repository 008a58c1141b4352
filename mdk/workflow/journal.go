package workflow

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// Node statuses as journaled in mdk.workflow_steps.
const (
	nodeRunning            = "running"
	nodeCompleted          = "completed"
	nodeFailed             = "failed"
	nodeCompensated        = "compensated"
	nodeCompensationFailed = "compensation_failed"
)

// errLeaseLost means another instance took the run over: the runner must
// stop without writing anything more.
var errLeaseLost = errors.New("lease lost to another instance")

// journal is the SQL side of the engine. Every write about a run that is
// executing is one autocommit statement conditional on this instance holding
// the run's lease, so that a stalled instance cannot overwrite the work of
// the one that took over: a write that matches no row means errLeaseLost.
// The lease itself is renewed only by the runner's heartbeat, which the
// lease duration covers, not by every write.
//
// On PostgreSQL the step writes read the run row FOR SHARE, which orders
// them against a claim (an UPDATE of that row): a claim either waits for the
// write to commit, and the new owner then loads it, or commits first, and
// the write re-reads the row, sees the new owner and matches nothing.
// Parallel nodes of one run share the lock and do not wait for each other.
// SQLite serializes writers, so there the condition alone suffices.
type journal struct {
	db    *sqldb.DB
	owner string
	lease time.Duration

	lock string // the lease row's lock clause for db's engine

	// Prepared statements by text, for the statements of every run, on
	// SQLite only: its driver otherwise parses the text on each call, which
	// cost more than executing these statements. (pgx caches prepared
	// statements per connection itself, and database/sql's prepared
	// statements over it measured slower.) They live as long as db.
	prepare bool
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
}

// stmt returns the prepared statement of q, preparing it on first use.
func (j *journal) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	j.mu.Lock()
	s := j.stmts[q]
	j.mu.Unlock()
	if s != nil {
		return s, nil
	}
	s, err := j.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if prev := j.stmts[q]; prev != nil { // prepared concurrently: keep one
		if err := s.Close(); err != nil {
			return nil, err
		}
		return prev, nil
	}
	j.stmts[q] = s
	return s, nil
}

// exec executes q, as a prepared statement on SQLite.
func (j *journal) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if !j.prepare {
		return j.db.ExecContext(ctx, q, args...)
	}
	s, err := j.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// queryRow runs q (as a prepared statement on SQLite) and scans its one
// row into dest.
func (j *journal) queryRow(ctx context.Context, q string, args []any, dest ...any) error {
	if !j.prepare {
		return j.db.QueryRowContext(ctx, q, args...).Scan(dest...)
	}
	s, err := j.stmt(ctx, q)
	if err != nil {
		return err
	}
	return s.QueryRowContext(ctx, args...).Scan(dest...)
}

func newJournal(db *sqldb.DB, owner string, lease time.Duration) *journal {
	lock, prepare := "", true
	if db.Engine() == sqldb.Postgres {
		lock, prepare = " FOR SHARE", false
	}
	return &journal{db: db, owner: owner, lease: lease, lock: lock, prepare: prepare, stmts: map[string]*sql.Stmt{}}
}

func nowMillis() int64 { return time.Now().UnixMilli() }

// runRecord is a run as Start journals it.
type runRecord struct {
	id, workflowID, key, inputHash string
	input                          json.RawMessage
	leased                         bool // false: journal it unowned for any instance to take
}

func (j *journal) insertRun(ctx context.Context, r runRecord) error {
	now := nowMillis()
	owner, until := "", int64(0)
	if r.leased {
		owner, until = j.owner, now+j.lease.Milliseconds()
	}
	_, err := j.exec(ctx, `INSERT INTO mdk.workflow_runs
		(id, workflow_id, run_key, input_hash, input, status, lease_owner, lease_until, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
		r.id, r.workflowID, r.key, r.inputHash, string(r.input), string(mdk.RunRunning), owner, until, now)
	return err
}

// runByKey returns the ID and input hash of the keyed run of a workflow.
func (j *journal) runByKey(ctx context.Context, workflowID, key string) (id, inputHash string, err error) {
	err = j.db.QueryRowContext(ctx, `SELECT id, input_hash FROM mdk.workflow_runs WHERE workflow_id = $1 AND run_key = $2 AND run_key <> ''`,
		workflowID, key).Scan(&id, &inputHash)
	return id, inputHash, err
}

// claimable lists live runs that no live instance holds: their lease
// expired, or it is this instance's own from before a restart.
func (j *journal) claimable(ctx context.Context, limit int) ([]runRef, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT id, workflow_id FROM mdk.workflow_runs
		WHERE status IN ($1, $2) AND (lease_until < $3 OR lease_owner = $4)
		ORDER BY lease_until LIMIT $5`,
		string(mdk.RunRunning), string(mdk.RunCompensating), nowMillis(), j.owner, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []runRef
	for rows.Next() {
		var r runRef
		if err := rows.Scan(&r.id, &r.workflowID); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

type runRef struct{ id, workflowID string }

// claim takes the lease of a run whose lease expired. The condition is
// re-checked by the UPDATE itself, so of two instances racing for one run
// exactly one sees a row affected.
func (j *journal) claim(ctx context.Context, id string) (bool, error) {
	now := nowMillis()
	res, err := j.db.ExecContext(ctx, `UPDATE mdk.workflow_runs SET lease_owner = $1, lease_until = $2, updated_at = $3
		WHERE id = $4 AND status IN ($5, $6) AND (lease_until < $3 OR lease_owner = $1)`,
		j.owner, now+j.lease.Milliseconds(), now, id, string(mdk.RunRunning), string(mdk.RunCompensating))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// renew extends the lease; errLeaseLost if another instance holds it.
func (j *journal) renew(ctx context.Context, id string) error {
	now := nowMillis()
	res, err := j.db.ExecContext(ctx, `UPDATE mdk.workflow_runs SET lease_until = $1, updated_at = $2 WHERE id = $3 AND lease_owner = $4`,
		now+j.lease.Milliseconds(), now, id, j.owner)
	return leaseHeld(res, err)
}

// leaseHeld turns the result of a lease-conditional UPDATE of one run into
// errLeaseLost when it matched no row.
func leaseHeld(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return errLeaseLost
	}
	return nil
}

// release gives the lease up so that any instance resumes the run at once.
func (j *journal) release(ctx context.Context, id string) error {
	_, err := j.db.ExecContext(ctx, `UPDATE mdk.workflow_runs SET lease_owner = '', lease_until = 0, updated_at = $1
		WHERE id = $2 AND lease_owner = $3`, nowMillis(), id, j.owner)
	return err
}

// writeNodes journals the state of nodes of a run in one statement: nodes
// settling (completed, failed, compensated...) and attempts starting. An
// attempt must be journaled before it runs: a resume after a failure
// finishes (and then compensates) the nodes journaled running, which may have
// had side effects, and numbers attempts on from the journaled count.
//
// The statement's SELECT yields the rows only while this instance holds the
// run's lease; the casts type the parameters, which PostgreSQL cannot infer
// from an INSERT's SELECT list.
func (j *journal) writeNodes(ctx context.Context, runID string, nodes ...*nodeState) error {
	if len(nodes) == 0 {
		return nil
	}
	const cols = 10
	var q strings.Builder
	q.WriteString(`INSERT INTO mdk.workflow_steps (run_id, node, step_id, status, attempts, input, output, error, seq, started_at, finished_at)
		SELECT lease.id, v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7, v.column8, v.column9, v.column10
		FROM (SELECT id FROM mdk.workflow_runs WHERE id = $1 AND lease_owner = $2`)
	q.WriteString(j.lock)
	q.WriteString(`) AS lease CROSS JOIN (VALUES `)
	args := make([]any, 2, 2+cols*len(nodes))
	args[0], args[1] = runID, j.owner
	now := nowMillis()
	for i, n := range nodes {
		errText, err := encodeError(n.err)
		if err != nil {
			return err
		}
		finished := sql.NullInt64{Int64: now, Valid: n.status != nodeRunning}
		p := len(args) + 1
		if i > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "(CAST($%d AS TEXT), CAST($%d AS TEXT), CAST($%d AS TEXT), CAST($%d AS INTEGER), CAST($%d AS TEXT), "+
			"CAST($%d AS TEXT), CAST($%d AS TEXT), CAST($%d AS INTEGER), CAST($%d AS BIGINT), CAST($%d AS BIGINT))",
			p, p+1, p+2, p+3, p+4, p+5, p+6, p+7, p+8, p+9)
		args = append(args, n.node.spec.Name, n.node.step.ID, n.status, n.attempts, nullText(n.input),
			nullText(n.output), errText, n.seq, now, finished)
	}
	q.WriteString(`) AS v WHERE true
		ON CONFLICT (run_id, node) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, input = excluded.input,
			output = excluded.output, error = excluded.error, seq = excluded.seq, finished_at = excluded.finished_at`)
	return leaseHeld(j.exec(ctx, q.String(), args...))
}

// setRunStatus journals a run's status. A final status also gives up the
// lease: nothing is left to do.
func (j *journal) setRunStatus(ctx context.Context, id string, st mdk.RunStatus, output json.RawMessage, runErr, compErr *mdk.Error) error {
	errText, err := encodeError(runErr)
	if err != nil {
		return err
	}
	compText, err := encodeError(compErr)
	if err != nil {
		return err
	}
	q := `UPDATE mdk.workflow_runs SET status = $1, output = $2, error = $3, compensation_error = $4, updated_at = $5
		WHERE id = $6 AND lease_owner = $7`
	if st.Done() {
		q = `UPDATE mdk.workflow_runs SET status = $1, output = $2, error = $3, compensation_error = $4, updated_at = $5,
			lease_owner = '', lease_until = 0 WHERE id = $6 AND lease_owner = $7`
	}
	res, err := j.exec(ctx, q, string(st), nullText(output), errText, compText, nowMillis(), id, j.owner)
	return leaseHeld(res, err)
}

// runRow is a run as journaled, without its steps.
type runRow struct {
	info  mdk.RunInfo
	input json.RawMessage
}

func (j *journal) loadRun(ctx context.Context, id string) (runRow, error) {
	var (
		r                  runRow
		out, errT, compErr sql.NullString
		key, input, status string
	)
	err := j.queryRow(ctx, `SELECT workflow_id, run_key, input, status, output, error, compensation_error
		FROM mdk.workflow_runs WHERE id = $1`, []any{id}, &r.info.WorkflowID, &key, &input, &status, &out, &errT, &compErr)
	if errors.Is(err, sql.ErrNoRows) {
		return r, mdk.NotFound("workflow run %s not found", id)
	}
	if err != nil {
		return r, err
	}
	r.info.ID, r.info.Key, r.info.Status = id, key, mdk.RunStatus(status)
	r.input = json.RawMessage(input)
	r.info.Output = rawOrNil(out)
	if r.info.Error, err = decodeError(errT); err != nil {
		return r, err
	}
	if r.info.CompensationError, err = decodeError(compErr); err != nil {
		return r, err
	}
	return r, nil
}

// stepRow is one journaled node of a run.
type stepRow struct {
	info  mdk.StepInfo
	input json.RawMessage
	seq   int
}

// loadSteps returns a run's nodes, completed ones first in completion order.
func (j *journal) loadSteps(ctx context.Context, runID string) ([]stepRow, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT node, step_id, status, attempts, input, output, error, seq
		FROM mdk.workflow_steps WHERE run_id = $1
		ORDER BY CASE WHEN seq = 0 THEN 1 ELSE 0 END, seq, started_at, node`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []stepRow
	for rows.Next() {
		var (
			s                stepRow
			in, outT, errT   sql.NullString
			node, stepID, st string
		)
		if err := rows.Scan(&node, &stepID, &st, &s.info.Attempts, &in, &outT, &errT, &s.seq); err != nil {
			return nil, err
		}
		s.info.Node, s.info.StepID, s.info.Status = node, stepID, st
		s.input = rawOrNil(in)
		s.info.Output = rawOrNil(outT)
		if s.info.Error, err = decodeError(errT); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// journaledError is an *mdk.Error as the journal keeps it. The cause does not
// survive as an error value, only its text, for logs and RunInfo readers.
type journaledError struct {
	Code      mdk.Code `json:"code"`
	Message   string   `json:"message"`
	Field     string   `json:"field,omitempty"`
	Retryable bool     `json:"retryable,omitempty"`
	Cause     string   `json:"cause,omitempty"`
}

func encodeError(e *mdk.Error) (sql.NullString, error) {
	if e == nil {
		return sql.NullString{}, nil
	}
	je := journaledError{Code: e.Code, Message: e.Message, Field: e.Field, Retryable: e.Retryable}
	if e.Cause != nil {
		je.Cause = e.Cause.Error()
	}
	b, err := json.Marshal(je)
	if err != nil {
		return sql.NullString{}, fmt.Errorf("encode error %q: %w", e.Message, err)
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func decodeError(s sql.NullString) (*mdk.Error, error) {
	if !s.Valid || s.String == "" {
		return nil, nil
	}
	var je journaledError
	if err := json.Unmarshal([]byte(s.String), &je); err != nil {
		return nil, fmt.Errorf("decode journaled error: %w", err)
	}
	e := &mdk.Error{Code: je.Code, Message: je.Message, Field: je.Field, Retryable: je.Retryable}
	if je.Cause != "" {
		e.Cause = errors.New(je.Cause)
	}
	return e, nil
}

func nullText(raw json.RawMessage) sql.NullString {
	if raw == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: string(raw), Valid: true}
}

func rawOrNil(s sql.NullString) json.RawMessage {
	if !s.Valid {
		return nil
	}
	return json.RawMessage(s.String)
}
