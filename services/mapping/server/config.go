package server

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"strings"
	"time"

	"gallerysync.dev/services/mapping/seal"
)

// Store backends Config.Store may name.
const (
	StoreEmbedded = "embedded"
	StoreRedis    = "redis"
)

// ErrConfig is wrapped by every configuration problem.
var ErrConfig = errors.New("mapping config")

// Config is what an operator sets for the mapping service.
type Config struct {
	// GRPCAddr is the host:port the gRPC server listens on.
	GRPCAddr string
	// Store is StoreEmbedded (a bbolt file in DataDir) or StoreRedis.
	Store string
	// DataDir holds the embedded store's file.
	DataDir string
	// RedisAddr is host:port, or a comma-separated list of cluster nodes.
	RedisAddr string
	// RedisPassword authenticates to Redis; it is never logged.
	RedisPassword string
	// SecretKey is the base64 of the 32-byte key that seals connection
	// credentials. Losing it makes stored credentials unreadable.
	SecretKey string
	// ShutdownTimeout bounds the graceful stop before open calls are cut.
	ShutdownTimeout time.Duration
}

// RegisterFlags binds every field to a flag of fs, with its default.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.GRPCAddr, "grpc-addr", "127.0.0.1:9090", "gRPC listen address (host:port)")
	fs.StringVar(&c.Store, "store", StoreEmbedded, `state backend: "embedded" (single file in -data-dir) or "redis"`)
	fs.StringVar(&c.DataDir, "data-dir", ".data/mapping", "directory of the embedded store")
	fs.StringVar(&c.RedisAddr, "redis-addr", "127.0.0.1:6379", "Redis address, or comma-separated cluster node addresses")
	fs.StringVar(&c.RedisPassword, "redis-password", "", "Redis password (prefer the environment variable)")
	fs.StringVar(&c.SecretKey, "secret-key", "", "base64 of the 32-byte key sealing connection credentials (required; prefer the environment variable)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long a graceful stop may take before open calls are cut")
}

// Validate reports the first problem with c. Its messages never contain the
// secret key or the Redis password.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.GRPCAddr); err != nil {
		return fmt.Errorf("%w: -grpc-addr %q: %v", ErrConfig, c.GRPCAddr, err)
	}
	switch c.Store {
	case StoreEmbedded:
		if c.DataDir == "" {
			return fmt.Errorf("%w: -data-dir is required with -store=%s", ErrConfig, StoreEmbedded)
		}
	case StoreRedis:
		for _, addr := range strings.Split(c.RedisAddr, ",") {
			if _, _, err := net.SplitHostPort(strings.TrimSpace(addr)); err != nil {
				return fmt.Errorf("%w: -redis-addr %q: %v", ErrConfig, addr, err)
			}
		}
	default:
		return fmt.Errorf("%w: -store %q: want %q or %q", ErrConfig, c.Store, StoreEmbedded, StoreRedis)
	}
	if c.SecretKey == "" {
		return fmt.Errorf("%w: -secret-key is required (base64 of %d random bytes)", ErrConfig, seal.KeySize)
	}
	if _, err := seal.DecodeKey(c.SecretKey); err != nil {
		return fmt.Errorf("%w: -secret-key: %v", ErrConfig, err)
	}
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("%w: -shutdown-timeout %v is not positive", ErrConfig, c.ShutdownTimeout)
	}
	return nil
}

func (c Config) redisAddrs() []string {
	var addrs []string
	for _, addr := range strings.Split(c.RedisAddr, ",") {
		addrs = append(addrs, strings.TrimSpace(addr))
	}
	return addrs
}
