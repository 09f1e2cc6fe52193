package wix

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestClientConfigFlags(t *testing.T) {
	t.Parallel()
	var cfg ClientConfig
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse([]string{"-wix-app-id", testAppID, "-wix-app-secret", testAppSecret, "-wix-gallery-prefix", "/progallery/v2"}); err != nil {
		t.Fatal(err)
	}
	want := ClientConfig{
		BaseURL: "https://www.wixapis.com", GalleryPrefix: "/progallery/v2", AppID: testAppID, AppSecret: testAppSecret,
		Timeout: 15 * time.Second, MaxAttempts: 4,
	}
	if cfg != want {
		t.Errorf("parsed config %+v, want %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestClientConfigValidate(t *testing.T) {
	t.Parallel()
	good := ClientConfig{BaseURL: DefaultBaseURL, GalleryPrefix: DefaultGalleryPrefix, AppID: testAppID, AppSecret: testAppSecret, Timeout: time.Second, MaxAttempts: 3}
	for _, tc := range []struct {
		name    string
		edit    func(*ClientConfig)
		mention string
	}{
		{"base url without scheme", func(c *ClientConfig) { c.BaseURL = "www.wixapis.com" }, "wix-base-url"},
		{"base url with query", func(c *ClientConfig) { c.BaseURL = "https://www.wixapis.com/?a=b" }, "wix-base-url"},
		{"relative prefix", func(c *ClientConfig) { c.GalleryPrefix = "pro-gallery/v2" }, "wix-gallery-prefix"},
		{"no app id", func(c *ClientConfig) { c.AppID = " " }, "wix-app-id"},
		{"no secret", func(c *ClientConfig) { c.AppSecret = "" }, "wix-app-secret"},
		{"zero timeout", func(c *ClientConfig) { c.Timeout = 0 }, "wix-timeout"},
		{"no attempts", func(c *ClientConfig) { c.MaxAttempts = 0 }, "wix-max-attempts"},
		{"too many attempts", func(c *ClientConfig) { c.MaxAttempts = 11 }, "wix-max-attempts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			tc.edit(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("Validate = %v, want an error naming %s", err, tc.mention)
			}
			if err != nil && strings.Contains(err.Error(), testAppSecret) {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
	if err := good.Validate(); err != nil {
		t.Errorf("Validate(good) = %v", err)
	}
}

func TestNewClientDefaultsZeroSettings(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	// Only what has no default is given; the prefix must default to the
	// current /pro-gallery/v2 that the fake serves.
	c, err := NewClient(ClientConfig{BaseURL: f.srv.URL + "/", AppID: testAppID, AppSecret: testAppSecret})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetGallery(t.Context(), testInstance, testGallery, 0, 10); err != nil {
		t.Errorf("GetGallery with default settings: %v", err)
	}
	if _, err := NewClient(ClientConfig{AppID: testAppID}); err == nil {
		t.Error("NewClient without a secret succeeded")
	}
}

func TestTokenSharedByConcurrentCalls(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	f.addGallery("7e0d1c2b-0000-4000-8000-000000000001", "Other", 3)
	c := f.client(t)
	const calls = 50
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for range calls {
		wg.Go(func() {
			_, err := c.GetGallery(t.Context(), testInstance, testGallery, 0, 10)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("GetGallery: %v", err)
		}
	}
	if n := f.tokensMinted(testInstance); n != 1 {
		t.Errorf("%d token requests for %d concurrent calls, want 1", n, calls)
	}
	reqs := f.seen("GET " + DefaultGalleryPrefix + "/galleries/")
	if len(reqs) != calls {
		t.Fatalf("%d gallery requests, want %d", len(reqs), calls)
	}
	for _, r := range reqs {
		if r.auth != "OauthNG.JWS."+testInstance+".1" {
			t.Fatalf("Authorization %q, want the raw token", r.auth)
		}
	}
	// A second instance gets its own token.
	if _, err := c.GetGallery(t.Context(), "other-instance", testGallery, 0, 10); err != nil {
		t.Fatal(err)
	}
	if n := f.tokensMinted("other-instance"); n != 1 {
		t.Errorf("other instance minted %d tokens, want 1", n)
	}
}

// tokenClock is a clock tests move by hand.
type tokenClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *tokenClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *tokenClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		expiresIn int
		// margin is how long before expiry the token is replaced.
		margin time.Duration
	}{
		{"4 hour token: 5 minutes early", 14400, 5 * time.Minute},
		{"1 hour token: 5 minutes early", 3600, 5 * time.Minute},
		{"10 minute token: a tenth early", 600, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeWix(t)
			f.mu.Lock()
			f.tokenTTL = tc.expiresIn
			f.mu.Unlock()
			clock := &tokenClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			c := f.client(t, WithClientClock(clock.now))
			get := func() {
				t.Helper()
				if _, err := c.GetGallery(t.Context(), testInstance, testGallery, 0, 10); err != nil {
					t.Fatal(err)
				}
			}
			get()
			clock.advance(time.Duration(tc.expiresIn)*time.Second - tc.margin - time.Second)
			get()
			if n := f.tokensMinted(testInstance); n != 1 {
				t.Fatalf("%d tokens minted before the refresh point, want 1", n)
			}
			clock.advance(2 * time.Second)
			get()
			if n := f.tokensMinted(testInstance); n != 2 {
				t.Fatalf("%d tokens minted after the refresh point, want 2", n)
			}
		})
	}
}

func TestUnauthorizedRefreshesTokenOnce(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	c := f.client(t)
	ctx := t.Context()
	if _, err := c.GetGallery(ctx, testInstance, testGallery, 0, 10); err != nil {
		t.Fatal(err)
	}
	f.revokeTokens()
	if _, err := c.GetGallery(ctx, testInstance, testGallery, 0, 10); err != nil {
		t.Fatalf("call after the token was revoked: %v", err)
	}
	if n := f.tokensMinted(testInstance); n != 2 {
		t.Errorf("%d tokens minted, want 2", n)
	}

	// A 401 that a fresh token does not cure (a permission taken away) is
	// returned after exactly one refresh.
	f.mu.Lock()
	f.rejectAll = true
	f.mu.Unlock()
	before := len(f.seen("GET "))
	_, err := c.GetGallery(ctx, testInstance, testGallery, 0, 10)
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("GetGallery = %v, want ErrUnauthorized", err)
	}
	if n := f.tokensMinted(testInstance); n != 3 {
		t.Errorf("%d tokens minted, want 3 (one refresh)", n)
	}
	if n := len(f.seen("GET ")) - before; n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
}

func TestForgetDropsToken(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	c := f.client(t)
	for range 2 {
		if _, err := c.GetGallery(t.Context(), testInstance, testGallery, 0, 10); err != nil {
			t.Fatal(err)
		}
	}
	c.Forget(testInstance)
	if _, err := c.GetGallery(t.Context(), testInstance, testGallery, 0, 10); err != nil {
		t.Fatal(err)
	}
	if n := f.tokensMinted(testInstance); n != 2 {
		t.Errorf("%d tokens minted, want 2 (one before and one after Forget)", n)
	}
}

func TestSecretsStayOutOfErrorsAndLogs(t *testing.T) {
	t.Parallel()
	f := newFakeWix(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := f.client(t, WithLogger(logger))
	// A retried call and a minted token, both logged.
	f.failNext(1, scriptedFailure{match: "GET ", status: 503})
	if _, err := c.GetGallery(t.Context(), testInstance, testGallery, 0, 10); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "wix call retried") {
		t.Fatalf("retry not logged:\n%s", logs.String())
	}
	// Credentials Wix refuses.
	bad, err := NewClient(ClientConfig{BaseURL: f.srv.URL, AppID: testAppID, AppSecret: "wrong-" + testAppSecret}, WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.GetGallery(t.Context(), testInstance, testGallery, 0, 10)
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("GetGallery with a wrong secret = %v, want ErrUnauthorized", err)
	}
	token := "OauthNG.JWS." + testInstance
	for what, text := range map[string]string{"error": err.Error(), "logs": logs.String()} {
		if strings.Contains(text, testAppSecret) || strings.Contains(text, token) {
			t.Errorf("%s show a secret or token:\n%s", what, text)
		}
	}
}

// countingLimiter records its calls per tenant and may refuse.
type countingLimiter struct {
	mu    sync.Mutex
	calls map[string]int
	err   error
}

func (l *countingLimiter) Wait(_ context.Context, tenant string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls == nil {
		l.calls = make(map[string]int)
	}
	l.calls[tenant]++
	return l.err
}

func (l *countingLimiter) count(tenant string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls[tenant]
}
