package order

import (
	"context"
	"errors"
	"fmt"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/idempotency"
	"github.com/hyperrr/hyperrr/mdk/sqldb"
)

// Capture and refund run as workflows, so the provider call and the order
// update that records it are journaled together: a crash or a failed write
// between the two resumes the step, which calls the provider again under
// the same key (answered without moving money twice) and then records it.
// Concurrent requests for the same capture or refund share one run by its
// key. A refund with restock then returns the refunded units to stock
// (commerce.product's inventory.return, keyed by the refund, so every run
// of one refund restocks once).
const (
	stepCapture = "payment.capture"
	stepRefund  = "payment.refund"
	stepReturn  = "inventory.return"

	workflowFulfill = "order.fulfill"
	workflowRefund  = "order.refund"

	// maxRuns bounds how many runs one capture or refund gets when earlier
	// ones ended in a transient failure.
	maxRuns = 20
)

// fulfillPlan is the fulfil workflow's input.
type fulfillPlan struct {
	OrderID        string `json:"order_id"`
	TrackingNumber string `json:"tracking_number"`
}

// refundPlan is the refund workflow's input: the order's lines once
// refunded, the amount, and the amount refunded before, which names the
// refund (the provider key) and detects one already recorded; Restock is
// the units to put back in stock, by variant (none unless asked).
type refundPlan struct {
	OrderID string        `json:"order_id"`
	Lines   []Line        `json:"lines"`
	Amount  int64         `json:"amount"`
	Before  int64         `json:"before"`
	To      OrderStatus   `json:"to"`
	Restock []reserveLine `json:"restock,omitempty"`
}

// key names the refund: the order and the amount refunded before it.
func (p refundPlan) key() string { return fmt.Sprintf("refund/%s/%d", p.OrderID, p.Before) }

// returnInput mirrors product.ReturnInput (inventory.return).
type returnInput struct {
	Key   string        `json:"key"`
	Lines []reserveLine `json:"lines"`
}

type moneyWorkflows struct {
	fulfill *mdk.Workflow[fulfillPlan, orderRef]
	refund  *mdk.Workflow[refundPlan, orderRef]
}

func (o *ops) registerMoney(e mdk.WorkflowEngine) (moneyWorkflows, error) {
	err := errors.Join(
		mdk.RegisterStep(e, mdk.Step[fulfillPlan, orderRef]{ID: stepCapture, Run: o.capture}),
		mdk.RegisterStep(e, mdk.Step[refundPlan, orderRef]{ID: stepRefund, Run: o.refund}),
	)
	if err != nil {
		return moneyWorkflows{}, fmt.Errorf("register payment steps: %w", err)
	}
	fulfill := mdk.NewWorkflow[fulfillPlan, orderRef](workflowFulfill)
	capture := mdk.AddStep[orderRef](fulfill, "capture", stepCapture, func(in fulfillPlan, _ mdk.Results) (fulfillPlan, error) { return in, nil })
	fulfill.SetOutput(func(_ fulfillPlan, r mdk.Results) (orderRef, error) { return capture.Output(r) })
	refund := mdk.NewWorkflow[refundPlan, orderRef](workflowRefund)
	ref := mdk.AddStep[orderRef](refund, "refund", stepRefund, func(in refundPlan, _ mdk.Results) (refundPlan, error) { return in, nil })
	// After the money moved: a refund that fails leaves stock alone.
	mdk.AddStep[settleOutputIgnored](refund, "restock", stepReturn, func(in refundPlan, _ mdk.Results) (returnInput, error) {
		return returnInput{Key: in.key(), Lines: append([]reserveLine{}, in.Restock...)}, nil
	}, ref.Name())
	refund.SetOutput(func(_ refundPlan, r mdk.Results) (orderRef, error) { return ref.Output(r) })
	if err := errors.Join(e.RegisterWorkflow(fulfill.Spec()), e.RegisterWorkflow(refund.Spec())); err != nil {
		return moneyWorkflows{}, fmt.Errorf("register payment workflows: %w", err)
	}
	return moneyWorkflows{fulfill: fulfill, refund: refund}, nil
}

// capture captures the order's payment and marks it fulfilled
// (payment.capture). The provider key is the authorization's, so every
// run of every request captures it at most once. An order already
// fulfilled with this tracking number is done.
func (o *ops) capture(ctx context.Context, in fulfillPlan) (orderRef, error) {
	ref := orderRef{OrderID: in.OrderID}
	ord, err := o.store.getOrder(ctx, o.store.db, system, in.OrderID, "")
	if err != nil {
		return ref, err
	}
	if ord.Status == OrderFulfilled && ord.TrackingNumber == in.TrackingNumber {
		return ref, nil
	}
	if !CanTransition(ord.Status, OrderFulfilled) {
		return ref, mdk.Errorf(mdk.CodeConflict, "order %s is %s and can't be fulfilled", ord.ID, ord.Status)
	}
	if ord.PaymentStatus == paymentAuthorized {
		if err := o.payments.Capture(ctx, "capture/"+ord.PaymentID, ord.PaymentID, ord.Total); err != nil {
			return ref, err
		}
	}
	_, err = o.store.transition(ctx, system, in.OrderID, OrderFulfilled, false, func(tx *sqldb.Tx, ord *Order) error {
		ord.TrackingNumber, ord.PaymentStatus = in.TrackingNumber, paymentCaptured
		return errors.Join(
			emit(ctx, o.store.outbox, tx, EventPaymentCaptured, ord.ID, OrderEvent{OrderID: ord.ID, Status: ord.Status, Amount: ord.Total}),
			emit(ctx, o.store.outbox, tx, EventOrderFulfilled, ord.ID, OrderEvent{OrderID: ord.ID, Status: ord.Status}))
	})
	return ref, err
}

// refund refunds in.Amount and records it (payment.refund). The provider
// key names the refund by the order and the amount refunded before it, so
// a repeat of the step refunds nothing more; an order whose refunded
// amount has already moved past in.Before recorded it.
func (o *ops) refund(ctx context.Context, in refundPlan) (orderRef, error) {
	ref := orderRef{OrderID: in.OrderID}
	ord, err := o.store.getOrder(ctx, o.store.db, system, in.OrderID, "")
	if err != nil {
		return ref, err
	}
	if done, err := refundRecorded(ord, in); done || err != nil {
		return ref, err
	}
	if err := o.payments.Refund(ctx, in.key(), ord.PaymentID, in.Amount); err != nil {
		return ref, err
	}
	err = o.store.db.Tx(ctx, func(tx *sqldb.Tx) error {
		ord, err := o.store.getOrder(ctx, tx, system, in.OrderID, o.store.db.ForUpdate())
		if err != nil {
			return err
		}
		if done, err := refundRecorded(ord, in); done || err != nil {
			return err
		}
		if !CanTransition(ord.Status, in.To) {
			return mdk.Errorf(mdk.CodeConflict, "order %s is %s and can't become %s", ord.ID, ord.Status, in.To)
		}
		ord.Status, ord.Lines, ord.Refunded = in.To, in.Lines, ord.Refunded+in.Amount
		return errors.Join(
			emit(ctx, o.store.outbox, tx, EventPaymentRefunded, ord.ID, OrderEvent{OrderID: ord.ID, Status: in.To, Amount: in.Amount}),
			emit(ctx, o.store.outbox, tx, EventOrderRefunded, ord.ID, OrderEvent{OrderID: ord.ID, Status: in.To, Amount: in.Amount}),
			o.store.writeOrder(ctx, tx, &ord))
	})
	return ref, err
}

// refundRecorded reports whether ord already records the refund of in; an
// order refunded by another amount since in was planned is a conflict.
func refundRecorded(ord Order, in refundPlan) (bool, error) {
	switch ord.Refunded {
	case in.Before:
		return false, nil
	case in.Before + in.Amount:
		return true, nil
	}
	return false, &mdk.Error{Code: mdk.CodeConflict, Retryable: true,
		Message: fmt.Sprintf("order %s was refunded meanwhile; read it again and retry", ord.ID)}
}

// executeOnce runs w for in under key, and waits for it. A run already
// started under key is joined (or replayed when done), so concurrent and
// repeated requests share it; one that ended in a transient failure
// (internal, unavailable, retryable) is passed over for the next key of
// the series key, key/2, key/3 ..., so the request runs again.
func executeOnce[In, Out any](ctx context.Context, e mdk.WorkflowEngine, w *mdk.Workflow[In, Out], in In, key string) (Out, error) {
	var zero Out
	for n := 1; ; n++ {
		k := key
		if n > 1 {
			k = fmt.Sprintf("%s/%d", key, n)
		}
		id, err := mdk.StartWorkflow(ctx, e, w, in, k)
		if err != nil {
			return zero, err
		}
		info, err := e.Run(ctx, id)
		if err != nil {
			return zero, fmt.Errorf("read %s run %s: %w", w.ID(), id, err)
		}
		if info.Status == mdk.RunFailed && info.Error != nil && idempotency.ShouldAbandon(info.Error) && n < maxRuns {
			continue
		}
		// Starting again under k joins the run just found.
		return mdk.ExecuteSync(ctx, e, w, in, k)
	}
}
