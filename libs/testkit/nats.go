package testkit

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// NATS is an embedded JetStream server. Restart keeps its port and store, so a
// test can check that nothing is lost across a server restart.
type NATS struct {
	t    testing.TB
	opts server.Options
	srv  *server.Server
}

// StartNATS starts a JetStream server on a random loopback port with its own
// store directory, and shuts it down when the test ends.
func StartNATS(t testing.TB) *NATS {
	t.Helper()
	n := &NATS{t: t, opts: server.Options{
		ServerName: "testkit",
		Host:       "127.0.0.1",
		Port:       FreePort(t),
		JetStream:  true,
		StoreDir:   t.TempDir(),
		NoLog:      true,
		NoSigs:     true,
	}}
	n.start()
	t.Cleanup(n.Shutdown)
	return n
}

// URL is the client URL of the server.
func (n *NATS) URL() string { return fmt.Sprintf("nats://%s:%d", n.opts.Host, n.opts.Port) }

// Server is the running server, for tests that inspect it.
func (n *NATS) Server() *server.Server { return n.srv }

// Shutdown stops the server; clients see a disconnect.
func (n *NATS) Shutdown() {
	if n.srv == nil {
		return
	}
	n.srv.Shutdown()
	n.srv.WaitForShutdown()
	n.srv = nil
}

// Restart stops the server and starts it again on the same port and store.
func (n *NATS) Restart() {
	n.t.Helper()
	n.Shutdown()
	n.start()
}

func (n *NATS) start() {
	n.t.Helper()
	opts := n.opts
	srv, err := server.NewServer(&opts)
	if err != nil {
		n.t.Fatalf("nats server: %v", err)
	}
	srv.Start() // returns once the listeners run; the server owns its goroutines
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		n.t.Fatalf("nats server on %s not ready after 10s", n.URL())
	}
	n.srv = srv
}
