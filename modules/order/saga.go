package order

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/idempotency"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// Steps and workflows this module registers. The inventory steps belong to
// commerce.product and are reached by ID; reserveInput and friends mirror
// their JSON shapes.
const (
	stepHold      = "order.hold_checkout"
	stepReserve   = "inventory.reserve"
	stepCommit    = "inventory.commit"
	stepRestock   = "inventory.restock"
	stepCreate    = "order.create"
	stepConfirm   = "order.confirm"
	stepAuthorize = "payment.authorize"
	stepVoid      = "payment.void"
	stepCancel    = "order.cancel"

	workflowCheckout = "order.checkout"
	workflowCancel   = "order.cancel_order"
)

type reserveLine struct {
	VariantID string `json:"variant_id"`
	Quantity  int64  `json:"quantity"`
}

type reserveInput struct {
	Lines []reserveLine `json:"lines"`
}

type reservation struct {
	ID string `json:"id"`
}

type reserveOutput struct {
	Reservations []reservation `json:"reservations"`
}

func (o reserveOutput) ids() []string {
	ids := make([]string, len(o.Reservations))
	for i, r := range o.Reservations {
		ids[i] = r.ID
	}
	return ids
}

// settleInput is the input of inventory.commit and inventory.restock.
type settleInput struct {
	ReservationIDs []string `json:"reservation_ids"`
}

// cancelRef is payment.void's output in the cancel workflow: the order and
// the reservations its stock was committed under, read when the void ran,
// for inventory.restock. A pending order has none.
type cancelRef struct {
	OrderID        string   `json:"order_id"`
	ReservationIDs []string `json:"reservation_ids,omitempty"`
}

// sagaInput is the checkout workflow's input. Claim is the run's own key,
// recorded on the checkout by the claim; runs journaled before claims had
// keys have none.
type sagaInput struct {
	CheckoutID string        `json:"checkout_id"`
	Lines      []reserveLine `json:"lines"`
	Claim      string        `json:"claim,omitempty"`
}

type orderRef struct {
	OrderID string `json:"order_id"`
}

type authorizeInput struct {
	OrderID string `json:"order_id"`
}

type confirmInput struct {
	OrderID        string   `json:"order_id"`
	ReservationIDs []string `json:"reservation_ids"`
}

type checkoutRef struct {
	CheckoutID string `json:"checkout_id"`
}

// checkoutSaga is the checkout workflow: hold the checkout (claimed
// complete_in_progress by complete_checkout; compensated by reopening it,
// so a failed run settles its checkout whether or not its caller still
// waits, and on whichever instance resumed it) → reserve stock → create the order
// (pending) → authorize payment → commit stock → confirm the order
// (checkout completed, order.placed). Confirm is last so order.placed is
// only ever announced for an order that holds its stock and payment; if it
// fails, the reservation's compensation restocks the committed units.
type checkoutSaga struct {
	checkout *mdk.Workflow[sagaInput, orderRef]
	cancel   *mdk.Workflow[orderRef, orderRef]
}

func (o *ops) registerSaga(e mdk.WorkflowEngine) error {
	err := errors.Join(
		mdk.RegisterStep(e, mdk.Step[sagaInput, checkoutRef]{ID: stepHold, Run: o.holdCheckout, Compensate: o.releaseCheckout}),
		mdk.RegisterStep(e, mdk.Step[sagaInput, orderRef]{ID: stepCreate, Run: o.createOrder, Compensate: o.abandonOrder}),
		mdk.RegisterStep(e, mdk.Step[authorizeInput, Authorization]{ID: stepAuthorize, Run: o.authorize, Compensate: o.voidAuthorization}),
		mdk.RegisterStep(e, mdk.Step[confirmInput, orderRef]{ID: stepConfirm, Run: o.confirmOrder, Compensate: o.unconfirm}),
		mdk.RegisterStep(e, mdk.Step[orderRef, cancelRef]{ID: stepVoid, Run: o.voidForCancel}),
		mdk.RegisterStep(e, mdk.Step[orderRef, orderRef]{ID: stepCancel, Run: o.markCanceled}),
	)
	if err != nil {
		return fmt.Errorf("register order steps: %w", err)
	}
	wf := mdk.NewWorkflow[sagaInput, orderRef](workflowCheckout)
	hold := mdk.AddStep[checkoutRef](wf, "hold", stepHold, func(in sagaInput, _ mdk.Results) (sagaInput, error) { return in, nil })
	reserve := mdk.AddStep[reserveOutput](wf, "reserve", stepReserve, func(in sagaInput, _ mdk.Results) (reserveInput, error) {
		return reserveInput{Lines: in.Lines}, nil
	}, hold.Name())
	create := mdk.AddStep[orderRef](wf, "create", stepCreate, func(in sagaInput, _ mdk.Results) (sagaInput, error) {
		return in, nil
	}, reserve.Name())
	authorize := mdk.AddStep[Authorization](wf, "authorize", stepAuthorize, func(_ sagaInput, r mdk.Results) (authorizeInput, error) {
		ref, err := create.Output(r)
		return authorizeInput(ref), err
	}, create.Name())
	commit := mdk.AddStep[settleOutputIgnored](wf, "commit", stepCommit, func(_ sagaInput, r mdk.Results) (settleInput, error) {
		res, err := reserve.Output(r)
		return settleInput{ReservationIDs: res.ids()}, err
	}, authorize.Name(), reserve.Name())
	mdk.AddStep[orderRef](wf, "confirm", stepConfirm, func(_ sagaInput, r mdk.Results) (confirmInput, error) {
		ref, err := create.Output(r)
		if err != nil {
			return confirmInput{}, err
		}
		res, err := reserve.Output(r)
		return confirmInput{OrderID: ref.OrderID, ReservationIDs: res.ids()}, err
	}, commit.Name(), create.Name())
	wf.SetOutput(func(_ sagaInput, r mdk.Results) (orderRef, error) { return create.Output(r) })

	// The cancel workflow: void the payment → return the committed units
	// to stock → mark the order canceled. Canceling is last so an order is
	// never shown canceled while its money or stock is still held; every
	// step is idempotent, so a resumed or repeated run finishes the job.
	cancel := mdk.NewWorkflow[orderRef, orderRef](workflowCancel)
	void := mdk.AddStep[cancelRef](cancel, "void", stepVoid, func(in orderRef, _ mdk.Results) (orderRef, error) { return in, nil })
	restock := mdk.AddStep[settleOutputIgnored](cancel, "restock", stepRestock, func(_ orderRef, r mdk.Results) (settleInput, error) {
		ref, err := void.Output(r)
		return settleInput{ReservationIDs: ref.ReservationIDs}, err
	}, void.Name())
	mark := mdk.AddStep[orderRef](cancel, "cancel", stepCancel, func(in orderRef, _ mdk.Results) (orderRef, error) { return in, nil }, restock.Name())
	cancel.SetOutput(func(_ orderRef, r mdk.Results) (orderRef, error) { return mark.Output(r) })

	if err := errors.Join(e.RegisterWorkflow(wf.Spec()), e.RegisterWorkflow(cancel.Spec())); err != nil {
		return fmt.Errorf("register order workflows: %w", err)
	}
	o.saga = &checkoutSaga{checkout: wf, cancel: cancel}
	return nil
}

// settleOutputIgnored stands for the output of inventory.commit and
// inventory.restock, which the workflows do not read.
type settleOutputIgnored = json.RawMessage

// holdCheckout checks that the run's checkout is still claimed for it and
// refreshes the claim, so the claim sweeper leaves it to the run
// (order.hold_checkout); its compensation is what matters.
func (o *ops) holdCheckout(ctx context.Context, in sagaInput) (checkoutRef, error) {
	held, err := o.store.holdClaim(ctx, in.CheckoutID, in.Claim)
	if err != nil {
		return checkoutRef{}, err
	}
	if !held {
		return checkoutRef{}, mdk.Errorf(mdk.CodeConflict, "checkout %s is no longer claimed for this completion attempt; read it and retry", in.CheckoutID)
	}
	return checkoutRef{CheckoutID: in.CheckoutID}, nil
}

// releaseCheckout reopens the checkout of a failed run: requires_escalation
// when the payment asked for it, else ready_for_complete for another try.
// It reads the run's failure from the journal, which records it before
// compensating.
func (o *ops) releaseCheckout(ctx context.Context, in sagaInput, _ checkoutRef) error {
	var failure error
	if s, ok := mdk.StepFrom(ctx); ok {
		info, err := o.engine.Run(ctx, s.RunID)
		if err != nil {
			return fmt.Errorf("read checkout run %s: %w", s.RunID, err)
		}
		if info.Error != nil {
			failure = info.Error
		}
	}
	return o.reopenCheckout(ctx, in.CheckoutID, in.Claim, failure)
}

// reopenCheckout moves a checkout still complete_in_progress for the run
// with key (any run when key is empty) after that run failed with runErr
// back to where the buyer can act on it. A checkout claimed since by
// another attempt is that attempt's to settle.
func (o *ops) reopenCheckout(ctx context.Context, id, key string, runErr error) error {
	to := CheckoutReady
	if mdk.ErrorCode(runErr) == CodeRequiresEscalation {
		to = CheckoutRequiresEscalation
	}
	return o.store.db.Tx(ctx, func(tx *sqldb.Tx) error {
		var claim string
		if err := tx.QueryRowContext(ctx, `SELECT claim_run_key FROM "order".checkouts WHERE id = $1`+o.store.db.ForUpdate(), id).Scan(&claim); err != nil {
			return fmt.Errorf("load claim of checkout %s: %w", id, err)
		}
		if key != "" && claim != key {
			return nil
		}
		_, err := o.store.setCheckoutStatus(ctx, tx, id, to, CheckoutInProgress)
		return err
	})
}

// createOrder writes the checkout's order as pending (order.create). One
// order exists per checkout: a re-run, or a later attempt after a failed
// one, reuses it.
func (o *ops) createOrder(ctx context.Context, in sagaInput) (orderRef, error) {
	var ref orderRef
	err := o.store.db.Tx(ctx, func(tx *sqldb.Tx) error {
		c, err := scanCheckout(tx.QueryRowContext(ctx, `SELECT `+checkoutCols+` FROM "order".checkouts WHERE id = $1`, in.CheckoutID))
		if err != nil {
			return fmt.Errorf("load checkout %s: %w", in.CheckoutID, err)
		}
		ord, err := scanOrder(tx.QueryRowContext(ctx, `SELECT `+orderCols+` FROM "order".orders WHERE checkout_id = $1`+o.store.db.ForUpdate(), c.ID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			id, err := mdk.SecretID(prefixOrder, secretIDBytes)
			if err != nil {
				return err
			}
			now := o.store.now().UTC()
			ord = Order{ID: id, CheckoutID: c.ID, CartID: c.CartID, OwnerKind: c.OwnerKind, CustomerID: c.CustomerID,
				Currency: c.Currency, CreatedAt: now}
		case err != nil:
			return fmt.Errorf("load order of checkout %s: %w", c.ID, err)
		case ord.Status == OrderPending:
		case ord.Status == OrderCanceled && ord.PlacedAt.IsZero():
		default:
			return mdk.Errorf(mdk.CodeConflict, "checkout %s already has order %s (%s)", c.ID, ord.ID, ord.Status)
		}
		a := o.cfg.price(c)
		ord.Status, ord.Lines, ord.Totals, ord.Total = OrderPending, c.Lines, a.totals(), a.total
		ord.PaymentID, ord.PaymentStatus = "", ""
		ref.OrderID = ord.ID
		return o.store.writeOrder(ctx, tx, &ord)
	})
	return ref, err
}

// abandonOrder cancels the pending order of a failed checkout.
func (o *ops) abandonOrder(ctx context.Context, _ sagaInput, ref orderRef) error {
	if ref.OrderID == "" {
		return nil
	}
	_, err := o.store.transition(ctx, system, ref.OrderID, OrderCanceled, true, nil)
	return err
}

// system is the principal the saga's own steps act as: it may read every
// order.
var system = mdk.Principal{Role: mdk.RoleMerchant, KeyID: "commerce.order"}

// authorize authorizes the order's total with the checkout's payment token
// (payment.authorize), idempotent by the step key.
func (o *ops) authorize(ctx context.Context, in authorizeInput) (Authorization, error) {
	ord, err := o.store.getOrder(ctx, o.store.db, system, in.OrderID, "")
	if err != nil {
		return Authorization{}, err
	}
	var token string
	if err := o.store.db.QueryRowContext(ctx, `SELECT payment_token FROM "order".checkouts WHERE id = $1`, ord.CheckoutID).Scan(&token); err != nil {
		return Authorization{}, fmt.Errorf("load payment token of checkout %s: %w", ord.CheckoutID, err)
	}
	auth, err := o.payments.Authorize(ctx, mdk.StepKey(ctx), token, ord.Total, ord.Currency)
	if err != nil {
		return Authorization{}, err
	}
	err = o.store.db.Tx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE "order".orders SET payment_id = $2, payment_status = $3 WHERE id = $1`,
			ord.ID, auth.ID, paymentAuthorized); err != nil {
			return fmt.Errorf("record authorization of order %s: %w", ord.ID, err)
		}
		return emit(ctx, o.store.outbox, tx, EventPaymentAuthorized, ord.ID, OrderEvent{OrderID: ord.ID, Status: ord.Status, Amount: auth.Amount})
	})
	return auth, err
}

// voidAuthorization releases the hold of a failed checkout.
func (o *ops) voidAuthorization(ctx context.Context, in authorizeInput, auth Authorization) error {
	if auth.ID == "" {
		return nil
	}
	if err := o.payments.Void(ctx, mdk.StepKey(ctx)+"/void", auth.ID); err != nil {
		return fmt.Errorf("void authorization %s: %w", auth.ID, err)
	}
	return o.store.db.Tx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE "order".orders SET payment_status = $2 WHERE id = $1`, in.OrderID, paymentVoided); err != nil {
			return fmt.Errorf("record void of order %s: %w", in.OrderID, err)
		}
		return emit(ctx, o.store.outbox, tx, EventPaymentVoided, in.OrderID, OrderEvent{OrderID: in.OrderID, Amount: auth.Amount})
	})
}

// confirmOrder confirms the order and completes its checkout in one
// transaction with order.placed and checkout.completed (order.confirm).
func (o *ops) confirmOrder(ctx context.Context, in confirmInput) (orderRef, error) {
	ord, err := o.store.transition(ctx, system, in.OrderID, OrderConfirmed, true, func(tx *sqldb.Tx, ord *Order) error {
		ord.ReservationIDs = in.ReservationIDs
		ord.PlacedAt = o.store.now().UTC().Truncate(time.Millisecond)
		c, err := scanCheckout(tx.QueryRowContext(ctx, `SELECT `+checkoutCols+` FROM "order".checkouts WHERE id = $1`, ord.CheckoutID))
		if err != nil {
			return fmt.Errorf("load checkout %s: %w", ord.CheckoutID, err)
		}
		c.Status, c.OrderID = CheckoutCompleted, ord.ID
		if err := o.store.writeCheckout(ctx, tx, &c, EventCheckoutCompleted); err != nil {
			return err
		}
		return emit(ctx, o.store.outbox, tx, EventOrderPlaced, ord.ID, OrderPlacedEvent{OrderID: ord.ID, CartID: ord.CartID, CheckoutID: ord.CheckoutID})
	})
	if err != nil {
		return orderRef{}, err
	}
	return orderRef{OrderID: ord.ID}, nil
}

// unconfirm reopens the checkout when committing stock failed after the
// order was confirmed; order.create's compensation then cancels the order.
func (o *ops) unconfirm(ctx context.Context, in confirmInput, _ orderRef) error {
	return o.store.db.Tx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE "order".orders SET status = $2, placed_at = 0 WHERE id = $1 AND status = $3`,
			in.OrderID, string(OrderPending), string(OrderConfirmed)); err != nil {
			return fmt.Errorf("reopen order %s: %w", in.OrderID, err)
		}
		_, err := tx.ExecContext(ctx, `UPDATE "order".checkouts SET status = $2, order_id = '' WHERE order_id = $1`,
			in.OrderID, string(CheckoutInProgress))
		return err
	})
}

// CompleteCheckoutInput is complete_checkout's input.
type CompleteCheckoutInput struct {
	ID             string `json:"id" jsonschema:"checkout ID (chk_...)"`
	IdempotencyKey string `json:"idempotency_key" jsonschema:"a unique key for this purchase attempt: retrying with the same key returns the first result and never charges twice"`
	PaymentToken   string `json:"payment_token,omitempty" jsonschema:"payment token; overrides the one set with update_checkout"`
}

// Validate requires the ID and the key.
func (in CompleteCheckoutInput) Validate() error {
	return errors.Join(requireField("id", in.ID), requireField("idempotency_key", in.IdempotencyKey))
}

// completeResponse is what the idempotency store keeps for a key: the
// checkout, or the business error that ended the attempt.
type completeResponse struct {
	Checkout *UCPCheckout `json:"checkout,omitempty"`
	Error    *mdk.Error   `json:"error,omitempty"`
}

func (o *ops) completeCheckout(ctx context.Context, in CompleteCheckoutInput) (UCPCheckout, error) {
	p := mdk.PrincipalFrom(ctx)
	c, err := o.store.getCheckout(ctx, o.store.db, p, in.ID, "")
	if err != nil {
		return UCPCheckout{}, err
	}
	if !ownedBy(p, c.OwnerKind, c.CustomerID) {
		return UCPCheckout{}, mdk.Errorf(mdk.CodeForbidden, "only the buyer can complete checkout %s", c.ID)
	}
	scope := "order.complete_checkout/" + c.ID
	hash, err := idempotency.HashRequest(in)
	if err != nil {
		return UCPCheckout{}, err
	}
	begun, err := o.idem.Begin(ctx, scope, in.IdempotencyKey, hash)
	if err != nil {
		return UCPCheckout{}, err
	}
	if begun.Replay {
		var r completeResponse
		if err := json.Unmarshal(begun.Response, &r); err != nil || (r.Checkout == nil && r.Error == nil) {
			return UCPCheckout{}, fmt.Errorf("replay complete_checkout %s: unreadable stored response: %v", c.ID, err)
		}
		if r.Error != nil {
			return UCPCheckout{}, r.Error
		}
		return *r.Checkout, nil
	}
	out, runErr := o.complete(ctx, c.ID, in)
	// The outcome is recorded even if the caller has gone away.
	bg := context.WithoutCancel(ctx)
	if idempotency.ShouldAbandon(runErr) {
		if err := o.idem.Abandon(bg, scope, in.IdempotencyKey); err != nil {
			return UCPCheckout{}, errors.Join(runErr, err)
		}
		return UCPCheckout{}, runErr
	}
	r := completeResponse{Checkout: &out}
	if runErr != nil {
		r = completeResponse{Error: mdk.AsError(runErr)}
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return UCPCheckout{}, fmt.Errorf("encode complete_checkout response: %w", err)
	}
	if err := o.idem.Complete(bg, scope, in.IdempotencyKey, raw); err != nil {
		return UCPCheckout{}, err
	}
	return out, runErr
}

// complete claims the checkout and runs the saga, then settles the
// checkout's status from its outcome.
func (o *ops) complete(ctx context.Context, id string, in CompleteCheckoutInput) (UCPCheckout, error) {
	var c Checkout
	key := runKey(id, in.IdempotencyKey)
	err := o.store.db.Tx(ctx, func(tx *sqldb.Tx) error {
		var err error
		if c, err = scanCheckout(tx.QueryRowContext(ctx, `SELECT `+checkoutCols+` FROM "order".checkouts WHERE id = $1`+o.store.db.ForUpdate(), id)); err != nil {
			return fmt.Errorf("load checkout %s: %w", id, err)
		}
		if in.PaymentToken != "" && c.Status.open() {
			c.PaymentToken = in.PaymentToken
			if c.Status == CheckoutRequiresEscalation {
				c.Status = CheckoutIncomplete
			}
			settle(&c)
		}
		switch c.Status {
		case CheckoutReady:
		case CheckoutCompleted:
			return nil
		case CheckoutInProgress:
			return &mdk.Error{Code: mdk.CodeConflict, Retryable: true, Message: "checkout " + id + " is being completed by another request; retry shortly"}
		case CheckoutIncomplete:
			m := missing(c)[0]
			return mdk.Invalid(m.Path[2:], "checkout %s is incomplete: %s", id, m.Content)
		default:
			return errClosed(c)
		}
		return o.store.claim(ctx, tx, &c, key)
	})
	if err != nil || c.Status == CheckoutCompleted {
		return o.cfg.view(c), err
	}
	lines := make([]reserveLine, len(c.Lines))
	for i, l := range c.Lines {
		lines[i] = reserveLine{VariantID: l.VariantID, Quantity: l.Quantity}
	}
	_, runErr := mdk.ExecuteSync(ctx, o.engine, o.saga.checkout, sagaInput{CheckoutID: id, Lines: lines, Claim: key}, key)
	if runErr != nil && ctx.Err() != nil {
		// The run goes on without us; its hold compensation settles the
		// checkout if it fails.
		return UCPCheckout{}, runErr
	}
	if runErr != nil {
		// The saga reopened the checkout itself, unless the key named a
		// run that had already ended, whose compensation ran before this
		// claim.
		if err := o.reopenCheckout(ctx, id, key, runErr); err != nil {
			return UCPCheckout{}, fmt.Errorf("settle checkout %s: %w", id, err)
		}
	}
	final, err := scanCheckout(o.store.db.QueryRowContext(ctx, `SELECT `+checkoutCols+` FROM "order".checkouts WHERE id = $1`, id))
	if err != nil {
		return UCPCheckout{}, fmt.Errorf("load checkout %s: %w", id, err)
	}
	if mdk.ErrorCode(runErr) == CodeRequiresEscalation {
		return o.cfg.view(final), nil
	}
	return o.cfg.view(final), runErr
}
