package stack

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// startNATS runs the real NATS server with JetStream inside this process. The
// store lives under the data dir, so streams and consumers survive a restart.
func startNATS(addr, storeDir string) (*server.Server, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("nats address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("nats port %q: %w", portText, err)
	}
	srv, err := server.NewServer(&server.Options{
		ServerName: "gallerysync-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   storeDir,
		NoLog:      true,
		NoSigs:     true,
	})
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	srv.Start() // returns once the listeners run; the server owns its goroutines
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("nats server on %s not ready after 10s", addr)
	}
	return srv, nil
}
