package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"gallerysync.dev/libs/bus"
)

// healthServer serves liveness, readiness and metrics.
type healthServer struct {
	srv  *http.Server
	done chan struct{}
}

// startHTTP listens on addr and serves until stop.
func startHTTP(addr string, b *bus.Bus, metrics http.Handler, log *slog.Logger) (*healthServer, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	// Ready when the bus is connected: without it no event arrives.
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !b.Ready() {
			http.Error(w, "bus not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", metrics)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	h := &healthServer{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		done: make(chan struct{}),
	}
	go func() {
		defer close(h.done)
		if err := h.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", slog.Any("error", err))
		}
	}()
	log.Info("http server listening", slog.String("addr", ln.Addr().String()))
	return h, nil
}

// stop shuts the server down and waits for its goroutine.
func (h *healthServer) stop(ctx context.Context) error {
	err := h.srv.Shutdown(ctx)
	<-h.done
	return err
}
