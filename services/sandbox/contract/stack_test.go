package contract_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"gallerysync.dev/services/sandbox/sandbox"
)

// stack is a running sandbox with a webhook receiver and the seeded demo.
type stack struct {
	sb    *sandbox.Sandbox
	demo  sandbox.Demo
	wix   string // base URL of the Wix emulator
	hooks *hookRecorder
}

// hookRecorder keeps every webhook body the sandbox posts; it answers 200.
type hookRecorder struct {
	mu     sync.Mutex
	bodies []string
}

func (h *hookRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.bodies = append(h.bodies, string(b))
	h.mu.Unlock()
}

func (h *hookRecorder) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.bodies...)
}

type stackOption func(*sandbox.Config)

func withRateLimit(n int) stackOption { return func(c *sandbox.Config) { c.WixRateLimit = n } }

// startStack runs a sandbox configured as the command's defaults, on a free
// port, with webhooks going to a recorder.
func startStack(t *testing.T, opts ...stackOption) *stack {
	t.Helper()
	rec := &hookRecorder{}
	recv := httptest.NewServer(rec)
	t.Cleanup(recv.Close)
	var cfg sandbox.Config
	fs := flag.NewFlagSet("contract", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	cfg.Addr = "127.0.0.1:0"
	cfg.WebhookURL = recv.URL
	cfg.MediaReadyAfter = 20 * time.Millisecond
	for _, o := range opts {
		o(&cfg)
	}
	sb, err := sandbox.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	demo, err := sb.Seed()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sb.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sandbox run: %v", err)
		}
	})
	return &stack{sb: sb, demo: demo, wix: sb.BaseURL() + sandbox.WixPrefix, hooks: rec}
}

// call sends a JSON request to the Wix emulator and returns status and body.
func (s *stack) call(t *testing.T, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.wix+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, raw
}

// ok is call for a request that must answer 200; out may be nil.
func (s *stack) ok(t *testing.T, method, path, token string, body, out any) []byte {
	t.Helper()
	status, raw := s.call(t, method, path, token, body)
	if status != http.StatusOK {
		t.Fatalf("%s %s: status %d: %s", method, path, status, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return raw
}

// token gets an app token for the instance.
func (s *stack) token(t *testing.T, instanceID string) string {
	t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	s.ok(t, "POST", "/oauth2/token", "", map[string]string{
		"grant_type": "client_credentials", "client_id": s.demo.AppID, "client_secret": s.demo.AppSecret, "instance_id": instanceID,
	}, &tok)
	return tok.AccessToken
}

// drain waits until every webhook is delivered.
func (s *stack) drain(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.sb.Wix().DrainWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
}

// webhook is a received webhook, verified, with its layers parsed.
type webhook struct {
	eventType, instanceID string
	data, identity        string
	iat                   int64
}

// webhooks verifies and unwraps every received webhook.
func (s *stack) webhooks(t *testing.T) []webhook {
	t.Helper()
	block, _ := pem.Decode(s.sb.PublicKeyPEM())
	if block == nil {
		t.Fatal("no public key PEM")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	var out []webhook
	for _, body := range s.hooks.all() {
		claims := jwt.MapClaims{}
		if _, err := jwt.ParseWithClaims(body, claims, func(*jwt.Token) (any, error) { return pub.(*rsa.PublicKey), nil },
			jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuedAt(), jwt.WithExpirationRequired()); err != nil {
			t.Fatalf("webhook does not verify: %v", err)
		}
		data, _ := claims["data"].(string)
		var env struct {
			EventType  string `json:"eventType"`
			InstanceID string `json:"instanceId"`
			Data       string `json:"data"`
			Identity   string `json:"identity"`
		}
		if err := json.Unmarshal([]byte(data), &env); err != nil {
			t.Fatalf("envelope %q: %v", data, err)
		}
		iat, _ := claims.GetIssuedAt()
		if iat == nil {
			t.Fatal("webhook JWT without iat")
		}
		out = append(out, webhook{eventType: env.EventType, instanceID: env.InstanceID, data: env.Data, identity: env.Identity, iat: iat.Unix()})
	}
	return out
}
