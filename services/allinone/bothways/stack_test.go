package bothways

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"gallerysync.dev/libs/testkit"
	"gallerysync.dev/services/allinone/stack"
)

// startStack runs the whole system over real engines: an embedded NATS
// JetStream server and a redis-server process behind the mapping service.
// limits is the sandbox platforms' rate-limit profile ("documented" or
// "unlimited", which also turns the writers' pacing off). The stack's log
// (warnings and errors) is shown when the test fails.
func startStack(t *testing.T, limits string) *stack.Stack {
	t.Helper()
	nats := testkit.StartNATS(t)
	redis := testkit.StartRedis(t)
	addr := func() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(testkit.FreePort(t))) }
	cfg := stack.Config{
		DataDir:         t.TempDir(),
		NATSURL:         nats.URL(),
		IngressAddr:     addr(),
		MappingAddr:     addr(),
		SandboxAddr:     addr(),
		MappingStore:    "redis",
		RedisAddr:       redis.Addr(),
		MastodonLimits:  limits,
		ShutdownTimeout: 10 * time.Second,
	}
	cfg.Telemetry.LogLevel = "warn"
	logs := &logBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := stack.Start(ctx, cfg, logs)
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop stack: %v", err)
		}
		if t.Failed() {
			t.Logf("stack log (warnings and errors):\n%s", logs.tail(64<<10))
		}
	})
	return s
}

// logBuffer keeps what the stack logs, for a failing test to show.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// tail is the last n bytes logged.
func (b *logBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.buf.Bytes()
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return string(out)
}
