package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/seal"
	"gallerysync.dev/services/mapping/store"
	"gallerysync.dev/services/mapping/store/boltstore"
	"gallerysync.dev/services/mapping/store/redisstore"
)

// Health is re-checked this often; a check waits at most healthTimeout.
const (
	healthInterval = 5 * time.Second
	healthTimeout  = 2 * time.Second
)

// ErrRunTwice is returned by a second call of Run.
var ErrRunTwice = errors.New("mapping server already ran")

// Server is a running mapping service: its store, listener and gRPC server.
type Server struct {
	cfg        Config
	logger     *slog.Logger
	store      store.Store
	closeStore func() error
	lis        net.Listener
	grpc       *grpc.Server
	health     *health.Server
	ran        atomic.Bool
	closeOnce  sync.Once
	closeErr   error
}

// New opens the store and binds the listener, so Addr is known before Run.
// opts are added to the gRPC server (interceptors, stats handlers).
func New(ctx context.Context, cfg Config, logger *slog.Logger, opts ...grpc.ServerOption) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	key, err := seal.DecodeKey(cfg.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("%w: -secret-key: %v", ErrConfig, err)
	}
	sealer, err := seal.New(key)
	if err != nil {
		return nil, err
	}
	st, closeStore, err := openStore(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		_ = closeStore()
		return nil, fmt.Errorf("listen on %s: %w", cfg.GRPCAddr, err)
	}
	s := &Server{
		cfg: cfg, logger: logger, store: st, closeStore: closeStore, lis: lis,
		grpc: grpc.NewServer(opts...), health: health.NewServer(),
	}
	gsv1.RegisterMappingServiceServer(s.grpc, NewService(st, sealer, logger))
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	s.checkHealth(ctx)
	return s, nil
}

// openStore opens the configured backend and returns how to close it.
func openStore(ctx context.Context, cfg Config, logger *slog.Logger) (store.Store, func() error, error) {
	if cfg.Store == StoreEmbedded {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("data dir: %w", err)
		}
		st, err := boltstore.Open(filepath.Join(cfg.DataDir, "mapping.db"), boltstore.WithLogger(logger))
		if err != nil {
			return nil, nil, err
		}
		return st, st.Close, nil
	}
	client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: cfg.redisAddrs(), Password: cfg.RedisPassword})
	st := redisstore.New(client)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := st.Ping(pingCtx); err != nil {
		_ = client.Close()
		return nil, nil, err
	}
	return st, client.Close, nil
}

// Addr is the address the server listens on (with the real port when the
// configured one was 0).
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Run serves until ctx is done or serving fails, then stops gracefully
// (cutting open calls after ShutdownTimeout) and closes the store.
func (s *Server) Run(ctx context.Context) error {
	if s.ran.Swap(true) {
		return ErrRunTwice
	}
	s.logger.Info("mapping service serving", "addr", s.Addr(), "store", s.cfg.Store)
	var wg sync.WaitGroup
	served := make(chan error, 1)
	wg.Go(func() { served <- s.grpc.Serve(s.lis) })
	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	wg.Go(func() { s.watchHealth(watchCtx) })

	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
		err = fmt.Errorf("serve gRPC on %s: %w", s.Addr(), err)
	}
	stopWatch()
	s.health.Shutdown()
	s.stop()
	wg.Wait()
	s.logger.Info("mapping service stopped")
	return errors.Join(err, s.Close())
}

// stop drains open calls for at most ShutdownTimeout, then cuts them.
func (s *Server) stop() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		s.grpc.GracefulStop()
		close(done)
	})
	timer := time.NewTimer(s.cfg.ShutdownTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		s.logger.Warn("graceful stop timed out; closing open calls", "timeout", s.cfg.ShutdownTimeout)
		s.grpc.Stop()
	}
	wg.Wait()
}

// Close releases what New took. Run calls it on its way out; call it
// yourself only when Run is never called.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if !s.ran.Load() {
			_ = s.lis.Close()
		}
		s.closeErr = s.closeStore()
	})
	return s.closeErr
}

func (s *Server) watchHealth(ctx context.Context) {
	tick := time.NewTicker(healthInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			s.checkHealth(ctx)
		}
	}
}

// checkHealth reports SERVING while the store answers a ping.
func (s *Server) checkHealth(ctx context.Context) {
	pingCtx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	st := healthpb.HealthCheckResponse_SERVING
	if err := s.store.Ping(pingCtx); err != nil {
		if ctx.Err() != nil {
			return
		}
		s.logger.Warn("store does not answer", "err", err)
		st = healthpb.HealthCheckResponse_NOT_SERVING
	}
	s.health.SetServingStatus("", st)
	s.health.SetServingStatus(gsv1.MappingService_ServiceDesc.ServiceName, st)
}
