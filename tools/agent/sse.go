package agent

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/hyperrr/hyperrr/mdk"
)

// ChatHandler serves POST /agent/chat: a JSON Request in, Server-Sent
// Events out, one per Event, named by its type (conversation, text,
// tool_call, tool_started, tool_result, confirmation_required, done,
// error), with the Event as JSON data. Errors found before the stream
// starts are answered by WriteError with a status instead. The request's
// context must carry the merchant principal (the gateway's authentication
// middleware puts it there).
type ChatHandler struct {
	Service *Service
	// WriteError answers a request that failed before streaming.
	WriteError func(w http.ResponseWriter, err error)
	// MaxBodyBytes bounds the request body.
	MaxBodyBytes int64
	// KeepAlive is how often an idle stream gets an SSE comment, so
	// proxies do not cut it while the model thinks; 0 means 15 s.
	KeepAlive time.Duration
}

func (h ChatHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.MaxBodyBytes))
	if err != nil {
		h.WriteError(w, mdk.Invalid("", "read request body: %v", err))
		return
	}
	var req Request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		h.WriteError(w, mdk.Invalid("", `send a JSON object such as {"message": "add 40 red wool scarves at $25"} or {"conversation_id": "...", "confirm": "prop_..."}: %v`, err))
		return
	}
	s := &sseStream{w: w, rc: http.NewResponseController(w)}
	every := h.KeepAlive
	if every <= 0 {
		every = 15 * time.Second
	}
	stop := s.keepAlive(every)
	err = h.Service.Chat(r.Context(), req, s.emit)
	stop()
	if err != nil && !s.isStarted() {
		h.WriteError(w, err)
	}
}

// sseStream writes events and keep-alive comments, one at a time.
type sseStream struct {
	mu      sync.Mutex
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
	err     error // the first failed write: the client left
}

func (s *sseStream) isStarted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

func (s *sseStream) emit(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	if !s.started {
		s.started = true
		h := s.w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no")
		s.w.WriteHeader(http.StatusOK)
	}
	if s.err = WriteSSE(s.w, e); s.err == nil {
		s.err = s.rc.Flush()
	}
}

// keepAlive writes a comment every interval once the stream has started,
// until the returned stop is called.
func (s *sseStream) keepAlive(every time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				s.mu.Lock()
				if s.started && s.err == nil {
					if _, s.err = io.WriteString(s.w, ": keep-alive\n\n"); s.err == nil {
						s.err = s.rc.Flush()
					}
				}
				s.mu.Unlock()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// WriteSSE writes one event in Server-Sent Events framing. The JSON data
// has no newlines, so it is one data line.
func WriteSSE(w io.Writer, e Event) error {
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", e.Type, err)
	}
	if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Type, data); err != nil {
		return fmt.Errorf("write %s event: %w", e.Type, err)
	}
	return nil
}

// ReadSSE reads events written by WriteSSE until r ends, calling fn for
// each; it is what clients of POST /agent/chat (and the tests) use.
func ReadSSE(r io.Reader, fn func(Event) error) error {
	var data []byte
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0:
			if len(data) == 0 {
				continue
			}
			var e Event
			if err := json.Unmarshal(data, &e); err != nil {
				return fmt.Errorf("decode event: %w", err)
			}
			data = data[:0]
			if err := fn(e); err != nil {
				return err
			}
		case bytes.HasPrefix(line, []byte("data:")):
			data = append(data, bytes.TrimSpace(line[len("data:"):])...)
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read events: %w", err)
	}
	return nil
}
