package mdk

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"time"

	"github.com/google/uuid"
)

// Event is a fact a module announces after it changed state. Modules write
// events to their outbox in the same transaction as the change; a relay
// publishes them to the Bus, so delivery is at-least-once and handlers
// dedupe by ID.
type Event struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`    // "product.created"
	Subject string          `json:"subject"` // the entity it is about, e.g. a product ID
	Time    time.Time       `json:"time"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// NewEvent builds an event with a time-ordered ID and data encoded as JSON.
func NewEvent(typ, subject string, data any) (Event, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return Event{}, fmt.Errorf("new event id: %w", err)
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return Event{}, fmt.Errorf("encode %s event: %w", typ, err)
	}
	return Event{ID: id.String(), Type: typ, Subject: subject, Time: time.Now().UTC(), Data: raw}, nil
}

// Handler handles one event. A returned error makes the bus retry the event
// with backoff; handlers must be idempotent by Event.ID.
type Handler func(ctx context.Context, e Event) error

// Delivery says which instances of a multi-instance deployment receive an
// event.
type Delivery int

const (
	// Shared delivers each event to one instance of the subscription (work
	// queue): order confirmation, e-mails.
	Shared Delivery = iota
	// Broadcast delivers each event to every instance: in-process search
	// index updates, GraphQL subscriptions.
	Broadcast
)

// Subscription describes a durable consumer.
type Subscription struct {
	// Name identifies the consumer (durable name); unique per bus.
	Name string
	// Types are event type patterns in path.Match syntax ("product.*").
	Types []string
	// Delivery is Shared by default.
	Delivery Delivery
	// MaxAttempts bounds handler retries before the event is dead-lettered;
	// 0 means the bus default.
	MaxAttempts int
}

// Validate returns an invalid error for a missing name, no patterns, a
// malformed pattern or a negative MaxAttempts: the rules every Bus applies
// in Subscribe.
func (s Subscription) Validate() error {
	if s.Name == "" {
		return Invalid("name", "a subscription needs a name")
	}
	if len(s.Types) == 0 {
		return Invalid("types", "subscription %q needs at least one event type pattern", s.Name)
	}
	for i, p := range s.Types {
		if _, err := path.Match(p, ""); p == "" || err != nil {
			return Invalid(fmt.Sprintf("types[%d]", i), "subscription %q: %q is not a valid event type pattern (path.Match syntax, e.g. \"product.*\")", s.Name, p)
		}
	}
	if s.MaxAttempts < 0 {
		return Invalid("max_attempts", "subscription %q: max attempts must not be negative", s.Name)
	}
	return nil
}

// Matches reports whether the subscription wants events of type typ.
func (s Subscription) Matches(typ string) bool {
	for _, p := range s.Types {
		if ok, _ := path.Match(p, typ); ok {
			return true
		}
	}
	return false
}

// DeadLetter is an event a subscription gave up on after its last
// attempt. Buses hand dead letters to a callback of their options; the
// gateway stores them where operators can list them.
type DeadLetter struct {
	Subscription string
	Event        Event
	Attempts     int
	// Error is the last attempt's error (or panic) message.
	Error string
	// Instance names the process that gave up, when the bus knows it.
	Instance string
	At       time.Time
}

// Bus carries events from the outbox relay to subscribers. Implementations:
// mdk/membus (in-process, the default) and mdk/natsbus (NATS JetStream, for
// several instances); mdk/bustest is the contract both pass.
type Bus interface {
	// Publish hands events to the bus; it returns once the bus has taken
	// responsibility for them (queued in memory, or stored by the server).
	Publish(ctx context.Context, events ...Event) error
	// Subscribe registers a handler. Events published after it returns are
	// delivered in publish order per subscription.
	Subscribe(sub Subscription, h Handler) error
	// Ping reports whether the bus can take events, for readiness checks.
	Ping(ctx context.Context) error
	// Close stops taking events and drains what is queued until ctx ends.
	Close(ctx context.Context) error
}
