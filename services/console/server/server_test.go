package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/testkit"
	"gallerysync.dev/libs/testkit/mappingfake"
	"gallerysync.dev/libs/wix"
	"gallerysync.dev/services/console/auth"
	"gallerysync.dev/services/console/internal/fake"
	"gallerysync.dev/services/console/server"
)

const key32 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

func config() server.Config {
	return server.Config{
		HTTPAddr: "127.0.0.1:0", MappingAddr: "127.0.0.1:9090", SessionKey: key32,
		SessionTTL: time.Hour, InstanceMaxAge: time.Hour, CheckTimeout: time.Second,
		ShareScanEvery: time.Minute, ShutdownTimeout: 5 * time.Second,
		Wix: wix.ClientConfig{BaseURL: "http://wix.test", GalleryPrefix: wix.DefaultGalleryPrefix, AppID: "app", AppSecret: "secret",
			Timeout: time.Second, MaxAttempts: 1},
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*server.Config)
		want   string
	}{
		{"valid", func(*server.Config) {}, ""},
		{"no session key", func(c *server.Config) { c.SessionKey = "" }, "session-key is required"},
		{"key not base64", func(c *server.Config) { c.SessionKey = "%%%" }, "not base64"},
		{"short key", func(c *server.Config) { c.SessionKey = "c2hvcnQ=" }, "at least 32"},
		{"bad address", func(c *server.Config) { c.HTTPAddr = "8081" }, "http-addr"},
		{"zero max age", func(c *server.Config) { c.InstanceMaxAge = 0 }, "instance-max-age"},
		{"no app secret", func(c *server.Config) { c.Wix.AppSecret = "" }, "wix-app-secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := config()
			tt.change(&c)
			err := c.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Validate = %v, want %q", err, tt.want)
			}
			if tt.want != "" && !errors.Is(err, server.ErrConfig) && !strings.Contains(tt.want, "wix") {
				t.Fatalf("error %v does not wrap ErrConfig", err)
			}
		})
	}
}

func TestConsoleServesAndStops(t *testing.T) {
	t.Parallel()
	_, mc := mappingfake.Start(t)
	n := testkit.StartNATS(t)
	ctx := context.Background()
	b, err := bus.Connect(ctx, bus.Config{URL: n.URL(), PublishTimeout: time.Second, Replicas: 1, DuplicateWindow: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	if err := b.EnsureStreams(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := server.New(config(), server.Deps{Mapping: mc, Bus: b, Wix: fake.NewWix()})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx) }()

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	inst, _ := auth.SignInstance([]byte("secret"), auth.Instance{InstanceID: "site-1", SignDate: time.Now()})
	for path, want := range map[string]int{
		"/healthz":                            http.StatusOK,
		"/readyz":                             http.StatusOK,
		"/galleries":                          http.StatusUnauthorized,
		"/?instance=" + url.QueryEscape(inst): http.StatusSeeOther,
		"/assets/logo.svg":                    http.StatusOK,
		"/metrics":                            http.StatusUnauthorized, // no metrics handler: the dashboard's 401
	} {
		resp, err := noFollow.Get(c.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: status %d, want %d", path, resp.StatusCode, want)
		}
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if _, err := http.Get(c.URL() + "/healthz"); err == nil {
		t.Fatal("the console still answers after Run returned")
	}
}
