package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// OpsServer serves a worker's operational endpoints: /healthz (the process
// answers), /readyz (its dependencies are there) and /metrics.
type OpsServer struct {
	srv  *http.Server
	addr string
	done chan struct{}
}

// StartOpsServer listens on addr and serves until Stop. ready decides
// /readyz: a replica that cannot work is taken out of rotation.
func StartOpsServer(addr string, ready func() bool, metrics http.Handler, log *slog.Logger) (*OpsServer, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", metrics)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	o := &OpsServer{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		addr: ln.Addr().String(),
		done: make(chan struct{}),
	}
	go func() {
		defer close(o.done)
		if err := o.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("ops http server", slog.Any("error", err))
		}
	}()
	log.Info("ops http server listening", slog.String("addr", o.addr))
	return o, nil
}

// Addr is the address the server listens on.
func (o *OpsServer) Addr() string { return o.addr }

// Stop shuts the server down and waits for it.
func (o *OpsServer) Stop(ctx context.Context) error {
	err := o.srv.Shutdown(ctx)
	<-o.done
	return err
}
