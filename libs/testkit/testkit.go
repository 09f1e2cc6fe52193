// Package testkit starts the real engines tests run against: an embedded NATS
// JetStream server and a redis-server process, each private to the test that
// asked for it and gone when the test ends.
package testkit

import (
	"net"
	"os"
	"os/exec"
	"testing"
)

// RequireBinary returns the path of an engine binary. When it is missing the
// test is skipped on a laptop and fails in CI (CI is set), so a CI run can
// never pass by silently testing nothing.
func RequireBinary(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not found on PATH (CI must install it): %v", name, err)
	}
	t.Skipf("%s not found on PATH; install it to run this test: %v", name, err)
	return ""
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
