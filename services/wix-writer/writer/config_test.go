package writer_test

import (
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/libs/testkit/mappingfake"
	"gallerysync.dev/libs/wix"
	"gallerysync.dev/services/wix-writer/writer"
)

// flags parses args into a Config the way the service does; the Wix app
// credentials and a media host, which have no defaults, come first so
// later args can override them.
func flags(t *testing.T, args ...string) writer.Config {
	t.Helper()
	var c writer.Config
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	c.RegisterFlags(fs)
	base := []string{"-wix-app-id", testAppID, "-wix-app-secret", testAppSecret, "-media-allowed-hosts", "files.mastodon.social"}
	if err := fs.Parse(append(base, args...)); err != nil {
		t.Fatalf("parse: %v", err)
	}
	return c
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := flags(t)
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if c.Durable != "wix-writer" || c.LifecycleDurable() != "wix-writer-lifecycle" || c.MaxDeliver != 8 ||
		c.Concurrency != 8 || c.LockTTL != 30*time.Second || c.DedupTTL != 72*time.Hour || c.IntentTTL != 24*time.Hour ||
		c.MappingAddr != "127.0.0.1:9090" || c.ShutdownTimeout != 20*time.Second {
		t.Fatalf("defaults = %+v", c)
	}
	if c.Wix.BaseURL != wix.DefaultBaseURL || c.Wix.GalleryPrefix != wix.DefaultGalleryPrefix {
		t.Fatalf("wix defaults = %+v", c.Wix)
	}
	c = flags(t, "-media-allowed-hosts", " Files.Mastodon.Social , cdn.example:8443 ,")
	if got := c.AllowedHosts(); !slices.Equal(got, []string{"files.mastodon.social", "cdn.example:8443"}) {
		t.Fatalf("allowed hosts %q", got)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"durable with a dot", []string{"-durable", "a.b"}, "durable"},
		{"durable with a wildcard", []string{"-durable", "w*"}, "durable"},
		{"durable too long", []string{"-durable", strings.Repeat("d", 60)}, "too long"},
		{"zero deliveries", []string{"-max-deliver", "0"}, "max deliver"},
		{"zero concurrency", []string{"-concurrency", "0"}, "concurrency"},
		{"tiny lock ttl", []string{"-lock-ttl", "10ms"}, "lock ttl"},
		{"no dedup ttl", []string{"-dedup-ttl", "0s"}, "dedup ttl"},
		{"tiny intent ttl", []string{"-intent-ttl", "1s"}, "intent ttl"},
		{"no media hosts", []string{"-media-allowed-hosts", " , "}, "media allowed hosts"},
		{"media host is a url", []string{"-media-allowed-hosts", "https://files.mastodon.social/"}, "host or host:port"},
		{"no mapping address", []string{"-mapping-addr", ""}, "mapping address"},
		{"no shutdown timeout", []string{"-shutdown-timeout", "0s"}, "shutdown timeout"},
		{"no wix app id", []string{"-wix-app-id", ""}, "wix-app-id"},
		{"no wix app secret", []string{"-wix-app-secret", ""}, "wix-app-secret"},
		{"wix base url not http", []string{"-wix-base-url", "ftp://wix.example"}, "wix-base-url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := flags(t, tc.args...).Validate()
			if !errors.Is(err, writer.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want ErrConfig naming %q", err, tc.want)
			}
		})
	}
}

func TestNewChecksDeps(t *testing.T) {
	t.Parallel()
	_, client := mappingfake.Start(t)
	api, err := wix.NewClient(wix.ClientConfig{AppID: testAppID, AppSecret: testAppSecret})
	if err != nil {
		t.Fatalf("wix client: %v", err)
	}
	tests := []struct {
		name string
		deps writer.Deps
	}{
		{"no mapping", writer.Deps{Wix: api}},
		{"no wix client", writer.Deps{Mapping: client}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := writer.New(flags(t), tc.deps); !errors.Is(err, writer.ErrConfig) {
				t.Fatalf("New = %v, want ErrConfig", err)
			}
		})
	}
	w, err := writer.New(flags(t), writer.Deps{Mapping: client, Wix: api})
	if err != nil {
		t.Fatalf("New with all deps: %v", err)
	}
	if err := w.Run(t.Context()); !errors.Is(err, writer.ErrConfig) {
		t.Fatalf("Run without a bus = %v, want ErrConfig", err)
	}
}
