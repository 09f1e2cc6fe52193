package sandbox_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"image"
	_ "image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"gallerysync.dev/services/sandbox/sandbox"
	"gallerysync.dev/services/sandbox/wixsim"
)

// testConfig is the flag defaults with a free port and no webhooks.
func testConfig(t *testing.T) sandbox.Config {
	t.Helper()
	var cfg sandbox.Config
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	cfg.Addr = "127.0.0.1:0"
	cfg.WebhookURL = ""
	return cfg
}

// runSandbox starts Run and stops it at cleanup, checking it returns nil.
func runSandbox(t *testing.T, sb *sandbox.Sandbox) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sb.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return after ctx was cancelled")
		}
	})
}

func get(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func post(t *testing.T, url, token string, body any, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: status %d: %s", url, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
	}
}

func TestSeededDemoIsServed(t *testing.T) {
	t.Parallel()
	sb, err := sandbox.New(testConfig(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	demo, err := sb.Seed()
	if err != nil {
		t.Fatal(err)
	}
	runSandbox(t, sb)
	if !strings.HasPrefix(sb.BaseURL(), "http://127.0.0.1:") || strings.HasSuffix(sb.Addr(), ":0") {
		t.Fatalf("addr %s base %s", sb.Addr(), sb.BaseURL())
	}

	status, index := get(t, sb.BaseURL()+"/", "")
	if status != http.StatusOK {
		t.Fatalf("index: status %d", status)
	}
	for _, want := range []string{sb.BaseURL() + "/wix", sb.BaseURL() + "/mastodon", demo.InstanceID, "Harbour at dawn"} {
		if !strings.Contains(string(index), want) {
			t.Fatalf("index lacks %q:\n%s", want, index)
		}
	}
	if strings.Contains(string(index), demo.AppSecret) || strings.Contains(string(index), demo.MastodonToken) {
		t.Fatal("index shows a secret")
	}

	// Act as the app: token, list galleries, fetch each item's image.
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	post(t, sb.BaseURL()+"/wix/oauth2/token", "", map[string]string{
		"grant_type": "client_credentials", "client_id": demo.AppID, "client_secret": demo.AppSecret, "instance_id": demo.InstanceID,
	}, &tok)
	status, raw := get(t, sb.BaseURL()+"/wix/pro-gallery/v2/galleries", tok.AccessToken)
	if status != http.StatusOK {
		t.Fatalf("list galleries: %d %s", status, raw)
	}
	var list struct {
		TotalGalleries int              `json:"totalGalleries"`
		Galleries      []wixsim.Gallery `json:"galleries"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	if list.TotalGalleries != len(demo.Galleries) || len(demo.Galleries) != 2 {
		t.Fatalf("%d galleries served, demo has %d", list.TotalGalleries, len(demo.Galleries))
	}
	for i, g := range list.Galleries {
		dg := demo.Galleries[i]
		if g.ID != dg.ID || g.Name != dg.Name || g.TotalItems != len(dg.ItemIDs) || len(dg.ItemIDs) < 3 {
			t.Fatalf("gallery %d = %+v, demo %+v", i, g, dg)
		}
		for j, it := range g.Items {
			if it.ID != dg.ItemIDs[j] || it.Title == "" || it.Description == "" {
				t.Fatalf("item %d of %s = %+v", j, g.Name, it)
			}
			info := it.Image.ImageInfo
			status, img := get(t, info.URL, "")
			if status != http.StatusOK {
				t.Fatalf("image %s: status %d", info.URL, status)
			}
			cfg, _, err := image.DecodeConfig(bytes.NewReader(img))
			if err != nil || cfg.Width != info.Width || cfg.Height != info.Height {
				t.Fatalf("image %s: %+v %v, item says %dx%d", info.URL, cfg, err, info.Width, info.Height)
			}
		}
	}

	// The Mastodon account answers with the demo token.
	status, raw = get(t, demo.MastodonBaseURL+"/api/v1/accounts/verify_credentials", demo.MastodonToken)
	if status != http.StatusOK {
		t.Fatalf("verify_credentials: %d %s", status, raw)
	}
	var acct struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	}
	if err := json.Unmarshal(raw, &acct); err != nil || acct.ID != demo.MastodonAccountID || acct.Username != "gallerysync_demo" {
		t.Fatalf("account = %+v (%v), demo %s", acct, err, demo.MastodonAccountID)
	}

	again, err := sb.Seed()
	if err != nil || again.Galleries[0].ID != demo.Galleries[0].ID || again.MastodonAccountID != demo.MastodonAccountID {
		t.Fatalf("seeding again: %+v, %v", again, err)
	}
}

func TestRestartSeedsTheSameIDs(t *testing.T) {
	t.Parallel()
	seed := func() sandbox.Demo {
		sb, err := sandbox.New(testConfig(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sb.Close() })
		d, err := sb.Seed()
		if err != nil {
			t.Fatal(err)
		}
		d.MastodonBaseURL, d.PinterestBaseURL, d.ATProtoBaseURL = "", "", "" // the port differs between runs
		return d
	}
	first, second := seed(), seed()
	a, _ := json.Marshal(first)
	b, _ := json.Marshal(second)
	if !bytes.Equal(a, b) {
		t.Fatalf("a second sandbox seeded different ids:\n%s\n%s", a, b)
	}
}

func TestWebhooksReachTheConfiguredURL(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var bodies []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)
	cfg := testConfig(t)
	cfg.WebhookURL = recv.URL
	sb, err := sandbox.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	demo, err := sb.Seed()
	if err != nil {
		t.Fatal(err)
	}
	runSandbox(t, sb)

	var owner struct {
		AccessToken string `json:"access_token"`
	}
	post(t, sb.BaseURL()+"/wix/_sandbox/owner-token", "", map[string]string{"instanceId": demo.InstanceID}, &owner)
	var file struct {
		File wixsim.FileDescriptor `json:"file"`
	}
	post(t, sb.BaseURL()+"/wix/site-media/v1/files/import", owner.AccessToken,
		map[string]string{"url": sb.BaseURL() + "/wix/_sandbox/images/new-photo.png?w=300&h=200"}, &file)
	if file.File.OperationStatus != "PENDING" {
		t.Fatalf("import answered %s, want PENDING", file.File.OperationStatus)
	}
	deadline := time.Now().Add(10 * time.Second)
	for file.File.OperationStatus != "READY" {
		if time.Now().After(deadline) {
			t.Fatalf("import still %s", file.File.OperationStatus)
		}
		time.Sleep(20 * time.Millisecond)
		status, raw := get(t, sb.BaseURL()+"/wix/site-media/v1/files/"+file.File.ID, owner.AccessToken)
		if status != http.StatusOK {
			t.Fatalf("get file: %d %s", status, raw)
		}
		if err := json.Unmarshal(raw, &file); err != nil {
			t.Fatal(err)
		}
	}
	post(t, sb.BaseURL()+"/wix/pro-gallery/v2/galleries/"+demo.Galleries[0].ID+"/items", owner.AccessToken,
		map[string]any{"item": map[string]any{"title": "New", "image": map[string]any{"imageInfo": map[string]any{"id": file.File.ID}}}}, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sb.Wix().DrainWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := append([]string(nil), bodies...)
	mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("%d webhooks, want 2: File Ready and the item (seeding sends none)", len(got))
	}
	got = got[1:]

	block, _ := pem.Decode(sb.PublicKeyPEM())
	if block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("public key PEM: %s", sb.PublicKeyPEM())
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	status, served := get(t, sb.BaseURL()+"/wix-app-public-key.pem", "")
	if status != http.StatusOK || !bytes.Equal(served, sb.PublicKeyPEM()) {
		t.Fatalf("served public key: %d %s", status, served)
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(got[0], claims, func(*jwt.Token) (any, error) { return pub.(*rsa.PublicKey), nil },
		jwt.WithValidMethods([]string{"RS256"})); err != nil {
		t.Fatalf("webhook does not verify with PublicKeyPEM: %v", err)
	}
	var env struct {
		EventType  string `json:"eventType"`
		InstanceID string `json:"instanceId"`
		Identity   string `json:"identity"`
	}
	if err := json.Unmarshal([]byte(claims["data"].(string)), &env); err != nil {
		t.Fatal(err)
	}
	if env.EventType != "wix.pro_gallery.gallery_v2_gallery_item_created" || env.InstanceID != demo.InstanceID ||
		!strings.Contains(env.Identity, demo.OwnerUserID) {
		t.Fatalf("envelope = %+v", env)
	}
}

func TestKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "wix.pem")
	cfg := testConfig(t)
	cfg.KeyFile = path
	first, err := sandbox.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = first.Close()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("key file not written: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", info.Mode().Perm())
	}
	second, err := sandbox.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = second.Close()
	if !bytes.Equal(first.PublicKeyPEM(), second.PublicKeyPEM()) {
		t.Fatal("a restart with the same key file has a different public key")
	}

	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.KeyFile = bad
	if _, err := sandbox.New(cfg, nil); !errors.Is(err, sandbox.ErrConfig) {
		t.Fatalf("bad key file: err = %v, want ErrConfig", err)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  func(c *sandbox.Config)
		wantErr bool
	}{
		{name: "defaults", change: func(*sandbox.Config) {}},
		{name: "unlimited mastodon", change: func(c *sandbox.Config) { c.MastodonLimits = "unlimited" }},
		{name: "unlimited wix", change: func(c *sandbox.Config) { c.WixRateLimit = -1 }},
		{name: "no webhooks", change: func(c *sandbox.Config) { c.WebhookURL = "" }},
		{name: "empty addr", change: func(c *sandbox.Config) { c.Addr = "" }, wantErr: true},
		{name: "addr without port", change: func(c *sandbox.Config) { c.Addr = "localhost" }, wantErr: true},
		{name: "relative webhook url", change: func(c *sandbox.Config) { c.WebhookURL = "/webhooks" }, wantErr: true},
		{name: "empty app id", change: func(c *sandbox.Config) { c.AppID = "" }, wantErr: true},
		{name: "empty secret", change: func(c *sandbox.Config) { c.AppSecret = "" }, wantErr: true},
		{name: "unknown limits", change: func(c *sandbox.Config) { c.MastodonLimits = "strict" }, wantErr: true},
		{name: "zero rate limit", change: func(c *sandbox.Config) { c.WixRateLimit = 0 }, wantErr: true},
		{name: "imports settle at once", change: func(c *sandbox.Config) { c.MediaReadyAfter = 0 }},
		{name: "negative media delay", change: func(c *sandbox.Config) { c.MediaReadyAfter = -time.Second }, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var cfg sandbox.Config
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			cfg.RegisterFlags(fs)
			if err := fs.Parse(nil); err != nil {
				t.Fatal(err)
			}
			tt.change(&cfg)
			err := cfg.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate() = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, sandbox.ErrConfig) {
				t.Fatalf("error %v does not wrap ErrConfig", err)
			}
		})
	}
}

func TestRunTwiceFails(t *testing.T) {
	t.Parallel()
	sb, err := sandbox.New(testConfig(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	runSandbox(t, sb)
	waitServing(t, sb.BaseURL())
	if err := sb.Run(context.Background()); !errors.Is(err, sandbox.ErrRunning) {
		t.Fatalf("second Run: %v, want ErrRunning", err)
	}
}

// waitServing polls the index until the sandbox answers.
func waitServing(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("sandbox at %s is not serving: %v", base, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
