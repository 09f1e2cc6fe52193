package writer_test

import (
	"errors"
	"flag"
	"testing"
	"time"

	"gallerysync.dev/libs/media"
	"gallerysync.dev/libs/platforms/mastodon"
	"gallerysync.dev/libs/testkit/mappingfake"
	"gallerysync.dev/services/platform-writer/writer"
)

func defaults(t *testing.T, args ...string) writer.Config {
	t.Helper()
	var c writer.Config
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse: %v", err)
	}
	return c
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := defaults(t)
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if c.Platform != "mastodon" || c.DurableName() != "platform-writer-mastodon" || c.MaxDeliver != 8 ||
		c.Concurrency != 32 || c.LockTTL != 30*time.Second || c.DedupTTL != 72*time.Hour ||
		c.MappingAddr != "127.0.0.1:9090" || len(c.AllowedHosts()) != 1 || c.AllowedHosts()[0] != "static.wixstatic.com" {
		t.Fatalf("defaults = %+v", c)
	}
	c = defaults(t, "-platform", "pixelfed", "-media-allowed-hosts", " a.example , b.example:8443 ,")
	if c.DurableName() != "platform-writer-pixelfed" || len(c.AllowedHosts()) != 2 || c.AllowedHosts()[1] != "b.example:8443" {
		t.Fatalf("durable %q, hosts %q", c.DurableName(), c.AllowedHosts())
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
	}{
		{"no platform", []string{"-platform", ""}},
		{"platform with a dot", []string{"-platform", "a.b"}},
		{"durable with a wildcard", []string{"-durable", "w*"}},
		{"zero deliveries", []string{"-max-deliver", "0"}},
		{"zero concurrency", []string{"-concurrency", "0"}},
		{"tiny lock ttl", []string{"-lock-ttl", "10ms"}},
		{"no dedup ttl", []string{"-dedup-ttl", "0s"}},
		{"no media hosts", []string{"-media-allowed-hosts", " , "}},
		{"media host is a url", []string{"-media-allowed-hosts", "https://static.wixstatic.com/"}},
		{"no mapping address", []string{"-mapping-addr", ""}},
		{"no shutdown timeout", []string{"-shutdown-timeout", "0s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := defaults(t, tc.args...).Validate(); !errors.Is(err, writer.ErrConfig) {
				t.Fatalf("Validate = %v, want ErrConfig", err)
			}
		})
	}
}

func TestNewChecksDeps(t *testing.T) {
	t.Parallel()
	_, client := mappingfake.Start(t)
	adapter := mastodon.New(media.NewFetcher([]string{"static.wixstatic.com"}))
	tests := []struct {
		name string
		cfg  func(writer.Config) writer.Config
		deps writer.Deps
	}{
		{"no mapping", nil, writer.Deps{Adapter: adapter}},
		{"no adapter", nil, writer.Deps{Mapping: client}},
		{"adapter of another platform", func(c writer.Config) writer.Config { c.Platform = "pixelfed"; return c },
			writer.Deps{Mapping: client, Adapter: adapter}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := defaults(t)
			if tc.cfg != nil {
				cfg = tc.cfg(cfg)
			}
			if _, err := writer.New(cfg, tc.deps); !errors.Is(err, writer.ErrConfig) {
				t.Fatalf("New = %v, want ErrConfig", err)
			}
		})
	}
}
