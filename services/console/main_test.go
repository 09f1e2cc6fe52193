package main

import (
	"context"
	"strings"
	"testing"
)

func TestRunRefusesBadConfig(t *testing.T) {
	t.Parallel()
	env := func(string) string { return "" }
	base := []string{"-wix-app-id", "app", "-wix-app-secret", "secret"}
	key := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no session key", base, "session-key is required"},
		{"short session key", append([]string{"-session-key", "c2hvcnQ="}, base...), "at least 32"},
		{"no app secret", []string{"-session-key", key, "-wix-app-id", "app"}, "wix-app-secret is required"},
		{"bad address", append([]string{"-session-key", key, "-http-addr", "nowhere"}, base...), "http-addr"},
		{"negative age", append([]string{"-session-key", key, "-instance-max-age", "-1h"}, base...), "instance-max-age"},
		{"unknown flag", []string{"-frobnicate"}, "frobnicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), tt.args, env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run(%v) = %v, want an error saying %q", tt.args, err, tt.want)
			}
		})
	}
}

func TestRunHelpIsNotAnError(t *testing.T) {
	t.Parallel()
	if err := run(context.Background(), []string{"-h"}, func(string) string { return "" }); err != nil {
		t.Fatalf("-h: %v", err)
	}
}
