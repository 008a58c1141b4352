package graph_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// wsClient speaks graphql-transport-ws over a real WebSocket.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func (e *env) dialWS(t *testing.T, key string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.base, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	c := &wsClient{t: t, conn: conn}
	c.send(wsMessage{Type: "connection_init", Payload: json.RawMessage(`{"Authorization":"Bearer ` + key + `"}`)})
	if m := c.next(); m.Type != "connection_ack" {
		t.Fatalf("after connection_init: %+v, want connection_ack", m)
	}
	return c
}

func (c *wsClient) send(m wsMessage) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, c.conn, m); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next message that is not a keep-alive.
func (c *wsClient) next() wsMessage {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		var m wsMessage
		if err := wsjson.Read(ctx, c.conn, &m); err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if m.Type != "ping" && m.Type != "pong" {
			return m
		}
	}
}

func (c *wsClient) subscribe(id, query string, vars map[string]any) {
	c.t.Helper()
	payload, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		c.t.Fatal(err)
	}
	c.send(wsMessage{ID: id, Type: "subscribe", Payload: payload})
}

func statusOf(t *testing.T, m wsMessage, field string) string {
	t.Helper()
	if m.Type != "next" {
		t.Fatalf("message %+v, want next", m)
	}
	var p struct {
		Data   map[string]struct{ Status string } `json:"data"`
		Errors []gqlError                         `json:"errors"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
		t.Fatalf("payload %s: %v %+v", m.Payload, err, p.Errors)
	}
	return p.Data[field].Status
}

// TestSubscriptions: a storefront follows a checkout over WebSocket and an
// order over SSE, and sees each status change the operations make.
func TestSubscriptions(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		_, scarf := e.createProduct(t, "Red Wool Scarf", variantSpec{"SCARF-1", 2500, 5})
		var co struct{ CheckoutCreate checkoutPayload }
		e.do(t, e.alice, `mutation($item: ID!) { checkoutCreate(input: {lines: [{itemId: $item, quantity: 1}]}) { checkout { id } errors { code } } }`,
			map[string]any{"item": scarf[0]}, &co)
		checkoutID := co.CheckoutCreate.Checkout.ID
		const sub = `subscription($id: ID!) { checkoutStatusChanged(id: $id) { id status order { id } } }`

		t.Run("WebSocketBadKey", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.base, "http")+"/graphql",
				&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.CloseNow()
			if err := wsjson.Write(ctx, conn, wsMessage{Type: "connection_init", Payload: json.RawMessage(`{"Authorization":"Bearer hyp_not_a_key"}`)}); err != nil {
				t.Fatal(err)
			}
			var m wsMessage
			if err := wsjson.Read(ctx, conn, &m); err == nil {
				t.Fatalf("after connection_init with a bad key: %+v, want the connection closed", m)
			}
		})

		t.Run("WebSocketOwnerOnly", func(t *testing.T) {
			bob := e.dialWS(t, e.bob)
			bob.subscribe("1", sub, map[string]any{"id": checkoutID})
			m := bob.next()
			var p struct {
				Data   json.RawMessage `json:"data"`
				Errors []gqlError      `json:"errors"`
			}
			if err := json.Unmarshal(m.Payload, &p); err != nil {
				t.Fatal(err)
			}
			if string(p.Data) != "null" || len(p.Errors) != 1 || p.Errors[0].code() != "not_found" {
				t.Fatalf("bob subscribing to alice's checkout: %s %s, want no data and not_found", m.Type, m.Payload)
			}
		})

		var orderID string
		t.Run("WebSocket", func(t *testing.T) {
			ws := e.dialWS(t, e.alice)
			ws.subscribe("1", sub, map[string]any{"id": checkoutID})
			if s := statusOf(t, ws.next(), "checkoutStatusChanged"); s != "incomplete" {
				t.Fatalf("first status = %q, want incomplete", s)
			}
			var up struct{ CheckoutUpdate checkoutPayload }
			e.do(t, e.alice, `mutation($id: ID!) { checkoutUpdate(input: {id: $id, buyer: {email: "alice@example.com"},
				shippingAddress: {streetAddress: "1 Main St", addressLocality: "Springfield", postalCode: "12345", addressCountry: "US"},
				fulfillmentOptionId: "standard", paymentToken: "tok_success"}) { checkout { status } errors { field message } } }`,
				map[string]any{"id": checkoutID}, &up)
			if s := statusOf(t, ws.next(), "checkoutStatusChanged"); s != "ready_for_complete" {
				t.Fatalf("after checkoutUpdate: %q, want ready_for_complete", s)
			}
			var done struct{ CheckoutComplete checkoutPayload }
			e.do(t, e.alice, `mutation($id: ID!) { checkoutComplete(id: $id, idempotencyKey: "k") { checkout { status order { id } } errors { code message } } }`,
				map[string]any{"id": checkoutID}, &done)
			if done.CheckoutComplete.Checkout == nil || done.CheckoutComplete.Checkout.Order == nil {
				t.Fatalf("checkoutComplete = %+v", done.CheckoutComplete)
			}
			orderID = done.CheckoutComplete.Checkout.Order.ID
			for s := ""; s != "completed"; {
				s = statusOf(t, ws.next(), "checkoutStatusChanged")
				if s != "completed" && s != "complete_in_progress" {
					t.Fatalf("after checkoutComplete: %q", s)
				}
			}
			ws.send(wsMessage{ID: "1", Type: "complete"})
		})

		t.Run("SSE", func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"query": `subscription($id: ID!) { orderStatusChanged(id: $id) { id status } }`,
				"variables": map[string]any{"id": orderID}})
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.base+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "text/event-stream")
			req.Header.Set("Authorization", "Bearer "+e.alice)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
				t.Fatalf("content type %q, want text/event-stream", ct)
			}
			events := make(chan string, 8)
			go func() {
				defer close(events)
				sc := bufio.NewScanner(resp.Body)
				for sc.Scan() {
					if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
						events <- data
					}
				}
			}()
			nextStatus := func() string {
				select {
				case data, ok := <-events:
					if !ok {
						t.Fatal("stream ended")
					}
					var p struct {
						Data struct{ OrderStatusChanged struct{ Status string } } `json:"data"`
					}
					if err := json.Unmarshal([]byte(data), &p); err != nil {
						t.Fatalf("event %s: %v", data, err)
					}
					return p.Data.OrderStatusChanged.Status
				case <-ctx.Done():
					t.Fatal("no event in time")
				}
				return ""
			}
			if s := nextStatus(); s != "confirmed" {
				t.Fatalf("first order status = %q, want confirmed", s)
			}
			var f struct {
				OrderFulfill struct{ Errors []userError } `json:"orderFulfill"`
			}
			e.do(t, e.merchant, `mutation($id: ID!) { orderFulfill(id: $id, trackingNumber: "1Z999") { order { status } errors { code message } } }`,
				map[string]any{"id": orderID}, &f)
			if len(f.OrderFulfill.Errors) > 0 {
				t.Fatalf("orderFulfill: %+v", f.OrderFulfill.Errors)
			}
			if s := nextStatus(); s != "fulfilled" {
				t.Fatalf("after orderFulfill: %q, want fulfilled", s)
			}
		})
	})
}
