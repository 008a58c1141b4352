// Package natstest runs a real NATS server with JetStream inside a test
// process, on a random port with its store in a temp dir, and can stop and
// restart it on the same port and store to test outages.
package natstest

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server is an in-process NATS server with JetStream.
type Server struct {
	t    testing.TB
	mu   sync.Mutex
	srv  *server.Server
	port int
	dir  string
}

// Start starts a server that is shut down when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, dir: t.TempDir()}
	if err := s.boot(server.RANDOM_PORT); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) boot(port int) error {
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: s.dir,
		NoLog: true, NoSigs: true,
	})
	if err != nil {
		return fmt.Errorf("new NATS server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return fmt.Errorf("NATS server not ready after 10s")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.srv = srv
	s.port = srv.Addr().(*net.TCPAddr).Port
	return nil
}

// URL is the client URL; it stays the same across Restart.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("nats://127.0.0.1:%d", s.port)
}

// Stop shuts the server down; stored streams stay on disk for Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
}

// Restart starts a stopped server again on the same port and store. The
// port may briefly be held by the old listener, so it retries for a while.
func (s *Server) Restart() {
	s.t.Helper()
	s.mu.Lock()
	port := s.port
	s.mu.Unlock()
	var err error
	for range 50 {
		if err = s.boot(port); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("restart NATS server on port %d: %v", port, err)
}
