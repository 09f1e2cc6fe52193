package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gallerysync.dev/services/platform-writer/writer"
)

func TestRunRefusesBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown platform flag", []string{"-platform", "myspace"}, nil, `unknown -platform "myspace"`},
		{"unknown platform from env", nil, map[string]string{"GALLERYSYNC_PLATFORM": "myspace"}, `unknown -platform "myspace"`},
		{"bad writer setting", []string{"-concurrency", "0"}, nil, "concurrency 0"},
		{"bad http address", []string{"-http-addr", "nope"}, nil, "http addr"},
		{"bad log level", []string{"-log-level", "loud"}, nil, "log level"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), tc.args, func(k string) string { return tc.env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestUnknownPlatformIsConfigError(t *testing.T) {
	t.Parallel()
	if _, err := newAdapter("myspace", nil); !errors.Is(err, writer.ErrConfig) {
		t.Fatalf("newAdapter = %v, want ErrConfig", err)
	}
	a, err := newAdapter("mastodon", nil)
	if err != nil || a.Name() != "mastodon" {
		t.Fatalf("newAdapter(mastodon) = %v, %v", a, err)
	}
}
