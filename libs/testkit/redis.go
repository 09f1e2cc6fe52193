package testkit

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Redis is a redis-server process with an append-only file in a temp dir, so
// Restart keeps the data (as a production Redis with AOF does) and Kill
// behaves like a crash.
type Redis struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

// StartRedis starts redis-server on a free loopback port and stops it when the
// test ends. It skips (laptop) or fails (CI) when redis-server is missing.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	r := &Redis{t: t, bin: RequireBinary(t, "redis-server"), dir: t.TempDir(), port: FreePort(t)}
	r.start()
	t.Cleanup(r.Kill)
	return r
}

// Addr is the host:port clients dial.
func (r *Redis) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

// Kill stops the process at once (SIGKILL).
func (r *Redis) Kill() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.done
	r.cmd = nil
}

// Restart kills the server and starts it again on the same port and data.
func (r *Redis) Restart() {
	r.t.Helper()
	r.Kill()
	r.start()
}

func (r *Redis) start() {
	r.t.Helper()
	cmd := exec.Command(r.bin,
		"--port", strconv.Itoa(r.port),
		"--bind", "127.0.0.1",
		"--dir", r.dir,
		"--save", "",
		"--appendonly", "yes",
		"--appendfsync", "always",
		"--daemonize", "no",
		"--logfile", "",
	)
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	r.cmd = cmd
	r.done = make(chan struct{})
	go func() { _ = cmd.Wait(); close(r.done) }()

	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if err := r.ping(); err == nil {
			return
		}
		select {
		case <-r.done:
			r.t.Fatalf("redis-server on port %d exited at start", r.port)
		case <-time.After(20 * time.Millisecond):
		}
	}
	r.Kill()
	r.t.Fatalf("redis-server on %s not ready after 10s", r.Addr())
}

// ping speaks just enough RESP to learn that the server accepts commands
// (it answers LOADING while it replays the AOF).
func (r *Redis) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", r.Addr())
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("redis answered %q", strings.TrimSpace(line))
	}
	return nil
}
