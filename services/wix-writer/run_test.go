package main

import (
	"context"
	"strings"
	"testing"
)

func TestRunRefusesBadConfig(t *testing.T) {
	t.Parallel()
	valid := map[string]string{
		"GALLERYSYNC_WIX_APP_ID":           "app",
		"GALLERYSYNC_WIX_APP_SECRET":       "secret",
		"GALLERYSYNC_MEDIA_ALLOWED_HOSTS":  "files.mastodon.social",
		"GALLERYSYNC_NATS_URL":             "nats://127.0.0.1:1",
		"GALLERYSYNC_MAPPING_ADDR":         "127.0.0.1:1",
		"GALLERYSYNC_SHUTDOWN_TIMEOUT":     "1s",
		"GALLERYSYNC_NATS_PUBLISH_TIMEOUT": "1s",
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no media hosts", nil, map[string]string{"GALLERYSYNC_MEDIA_ALLOWED_HOSTS": ""}, "media allowed hosts"},
		{"no wix credentials", nil, map[string]string{"GALLERYSYNC_WIX_APP_SECRET": ""}, "wix-app-secret"},
		{"bad writer setting from a flag", []string{"-concurrency", "0"}, nil, "concurrency 0"},
		{"bad writer setting from env", nil, map[string]string{"GALLERYSYNC_LOCK_TTL": "1ms"}, "lock ttl"},
		{"bad http address", []string{"-http-addr", "nope"}, nil, "http addr"},
		{"bad log level", []string{"-log-level", "loud"}, nil, "log level"},
		{"bad nats url", []string{"-nats-url", "nats://"}, nil, "nats url"},
	}
	t.Run("valid config gets as far as the bus", func(t *testing.T) {
		t.Parallel()
		// Nothing listens on the NATS port; a cancelled context ends the
		// connect at once, after the configuration was accepted.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := run(ctx, []string{"-http-addr", "127.0.0.1:0"}, func(k string) string { return valid[k] })
		if err == nil || !strings.HasPrefix(err.Error(), "bus:") {
			t.Fatalf("run = %v, want a bus error", err)
		}
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			for k, v := range valid {
				env[k] = v
			}
			for k, v := range tc.env {
				env[k] = v
			}
			err := run(context.Background(), tc.args, func(k string) string { return env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
