package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"gallerysync.dev/libs/testkit"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

func TestRunServesUntilCancelled(t *testing.T) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(testkit.FreePort(t))
	env := map[string]string{
		"GALLERYSYNC_SECRET_KEY": base64.StdEncoding.EncodeToString(key),
		"GALLERYSYNC_DATA_DIR":   t.TempDir(),
	}
	ctx, cancel := context.WithCancel(t.Context())
	var (
		wg     sync.WaitGroup
		runErr error
	)
	wg.Go(func() {
		runErr = run(ctx, []string{"-grpc-addr", addr, "-log-level", "warn"}, func(k string) string { return env[k] })
	})
	t.Cleanup(func() { cancel(); wg.Wait() })

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		if err == nil && resp.Status == healthpb.HealthCheckResponse_SERVING {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("service not SERVING after 15s: %v %v", resp, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	client := gsv1.NewMappingServiceClient(conn)
	if _, err := client.PutTenant(ctx, &gsv1.PutTenantRequest{Tenant: &gsv1.Tenant{TenantId: "t1"}}); err != nil {
		t.Fatal(err)
	}
	cancel()
	wg.Wait()
	if runErr != nil {
		t.Fatalf("run after cancel: %v", runErr)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no secret key", nil, "-secret-key is required"},
		{"unknown flag", []string{"-nope"}, "flag provided but not defined"},
		{"bad log level", []string{"-secret-key", base64.StdEncoding.EncodeToString(make([]byte, 32)), "-log-level", "loud"}, "log level"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := run(t.Context(), append([]string{"-data-dir", t.TempDir()}, tc.args...), func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
