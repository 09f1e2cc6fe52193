package stack

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"gallerysync.dev/libs/telemetry"
	"gallerysync.dev/libs/testkit"
	"gallerysync.dev/services/allinone/smoke"
	"gallerysync.dev/services/sandbox/wixsim"
)

// startStack runs the whole system over real engines: an embedded NATS
// JetStream server and a redis-server process behind the mapping service.
func startStack(t testing.TB, opts ...func(*Config)) *Stack {
	t.Helper()
	return startStackWith(t, nil, opts...)
}

// startStackWith is startStack with telemetry options (e.g. an in-memory
// span exporter).
func startStackWith(t testing.TB, tel []telemetry.Option, opts ...func(*Config)) *Stack {
	t.Helper()
	s, _ := startStackOn(t, engines{testkit.StartNATS(t), testkit.StartRedis(t)}, tel, opts...)
	return s
}

// engines are the real servers a stack runs on, for tests that restart them.
type engines struct {
	nats  *testkit.NATS
	redis *testkit.Redis
}

func startStackOn(t testing.TB, e engines, tel []telemetry.Option, opts ...func(*Config)) (*Stack, engines) {
	t.Helper()
	nats, redis := e.nats, e.redis
	addr := func() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(testkit.FreePort(t))) }
	cfg := Config{
		DataDir:         t.TempDir(),
		NATSURL:         nats.URL(),
		IngressAddr:     addr(),
		MappingAddr:     addr(),
		SandboxAddr:     addr(),
		MappingStore:    "redis",
		RedisAddr:       redis.Addr(),
		MastodonLimits:  "documented",
		ShutdownTimeout: 10 * time.Second,
	}
	cfg.Telemetry.LogLevel = "warn"
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Start(ctx, cfg, io.Discard, tel...)
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop stack: %v", err)
		}
	})
	return s, e
}

func target(d Demo) smoke.Target {
	return smoke.Target{
		SandboxURL:        d.SandboxURL,
		InstanceID:        d.InstanceID,
		LinkedGalleryID:   d.LinkedGalleryID,
		Hashtag:           d.Hashtag,
		MastodonBaseURL:   d.MastodonBaseURL,
		MastodonAccountID: d.MastodonAccountID,
		MastodonToken:     d.MastodonToken,
		ConnectionID:      d.ConnectionID,
		NATSURL:           d.NATSURL,
	}
}

// TestWixEditReachesMastodon is the smoke scenario as a test: create, rename
// and delete an item as the site owner; each change is one Mastodon write.
func TestWixEditReachesMastodon(t *testing.T) {
	s := startStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := smoke.Run(ctx, target(s.Demo()), smoke.Options{
		Within: 5 * time.Second, Settle: time.Second, Nonce: fmt.Sprint(time.Now().UnixNano()),
	})
	for _, c := range rep.Checks {
		t.Logf("%-22s ok=%v %s", c.Name, c.OK, c.Detail)
	}
	if err != nil {
		t.Fatalf("smoke: %v", err)
	}
	if !rep.Passed() {
		t.Fatal("smoke checks failed")
	}
}

// TestPlatformChangeReachesWix drives the other direction: a photo posted,
// edited and deleted on Mastodon (found by the account's watcher) becomes,
// changes and leaves a Pro Gallery item, and none of the Wix webhooks our
// writes cause is written back to Mastodon.
func TestPlatformChangeReachesWix(t *testing.T) {
	s := startStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := smoke.RunPlatformToWix(ctx, target(s.Demo()), smoke.Options{
		Within: 5 * time.Second, Settle: time.Second, Nonce: fmt.Sprint(time.Now().UnixNano()),
	})
	for _, c := range rep.Checks {
		t.Logf("%-22s ok=%v %s", c.Name, c.OK, c.Detail)
	}
	if err != nil {
		t.Fatalf("platform to wix: %v", err)
	}
	if !rep.Passed() {
		t.Fatal("platform to wix checks failed")
	}
}

// TestFaultyWebhookDeliveryStillWritesOnce runs the smoke scenario while Wix
// delivers every webhook three times, newest first, late, and only after a
// failed first attempt (its retry schedule, compressed by the sandbox).
func TestFaultyWebhookDeliveryStillWritesOnce(t *testing.T) {
	s := startStack(t, func(c *Config) { c.WixRetry = []time.Duration{100 * time.Millisecond, 200 * time.Millisecond} })
	if err := s.Sandbox().Wix().SetFaults(wixsim.Faults{Duplicate: 2, Reorder: true, Delay: 50 * time.Millisecond, FailFirst: 1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := smoke.Run(ctx, target(s.Demo()), smoke.Options{
		Within: 10 * time.Second, Settle: 2 * time.Second, Nonce: fmt.Sprint(time.Now().UnixNano()),
	})
	for _, c := range rep.Checks {
		t.Logf("%-22s ok=%v %s", c.Name, c.OK, c.Detail)
	}
	if err != nil {
		t.Fatalf("smoke: %v", err)
	}
	if !rep.Passed() {
		t.Fatal("smoke checks failed")
	}
}
