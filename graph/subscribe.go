package graph

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/hyperrr/hyperrr/mdk"
)

// hub wakes subscriptions when an event names what they watch. Events carry
// no owner, so a woken subscription re-reads its object through the
// operation with the subscriber's own principal: ownership is checked by
// the operation on every push, as on every other read.
type hub struct {
	mu       sync.Mutex
	watchers map[string]map[chan struct{}]struct{}
}

func newHub() *hub { return &hub{watchers: map[string]map[chan struct{}]struct{}{}} }

// listen returns a channel that receives when an event about id arrives;
// a burst of events coalesces into one wake-up.
func (h *hub) listen(id string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.watchers[id] == nil {
		h.watchers[id] = map[chan struct{}]struct{}{}
	}
	h.watchers[id][ch] = struct{}{}
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.watchers[id], ch)
		if len(h.watchers[id]) == 0 {
			delete(h.watchers, id)
		}
	}
}

// eventRefs are the identifiers checkout, order and payment events carry.
type eventRefs struct {
	CheckoutID string `json:"checkout_id"`
	OrderID    string `json:"order_id"`
}

// handle is the bus handler: it never fails, a malformed event only wakes
// fewer watchers.
func (h *hub) handle(_ context.Context, e mdk.Event) error {
	var refs eventRefs
	_ = json.Unmarshal(e.Data, &refs) // best effort: the subject still wakes its watchers
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range []string{e.Subject, refs.CheckoutID, refs.OrderID} {
		for ch := range h.watchers[id] {
			select {
			case ch <- struct{}{}:
			default: // a wake-up is already pending
			}
		}
	}
	return nil
}

// watch serves a status subscription: the object now, then again each time
// an event about it changes its status. The first read checks ownership
// (not found and forbidden end the subscription before it starts).
func watch[T any](ctx context.Context, r *Resolver, id string, status func(*T) string) (<-chan *T, error) {
	wake, stop := r.hub.listen(id) // before the first read, so no change slips between
	var first T
	if err := r.call(ctx, idIn{id}, &first); err != nil {
		stop()
		return nil, err
	}
	ch := make(chan *T, 1)
	ch <- &first
	go func() {
		defer close(ch)
		defer stop()
		last := status(&first)
		for {
			select {
			case <-ctx.Done():
				return
			case <-wake:
			}
			var next T
			if err := r.call(ctx, idIn{id}, &next); err != nil {
				if ctx.Err() == nil {
					r.log.WarnContext(ctx, "subscription ended: re-read failed", "id", id, "err", err)
				}
				return
			}
			if s := status(&next); s != last {
				last = s
				select {
				case ch <- &next:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return ch, nil
}
