package mappingfake_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"gallerysync.dev/libs/testkit/mappingfake"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

func TestMarkersLeasesAndIntentsExpire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	var hooked []string
	f, c := mappingfake.Start(t, mappingfake.WithClock(clk.now), mappingfake.WithMarkEchoHook(func(r *gsv1.MarkEchoRequest) {
		hooked = append(hooked, r.GetObjectId())
	}))

	first, err := c.MarkDedup(ctx, &gsv1.MarkDedupRequest{TenantId: "t1", Key: "k", Ttl: ttl(time.Minute)})
	again, err2 := c.MarkDedup(ctx, &gsv1.MarkDedupRequest{TenantId: "t1", Key: "k", Ttl: ttl(time.Minute)})
	other, err3 := c.MarkDedup(ctx, &gsv1.MarkDedupRequest{TenantId: "t2", Key: "k", Ttl: ttl(time.Minute)})
	if err != nil || err2 != nil || err3 != nil || !first.GetFirst() || again.GetFirst() || !other.GetFirst() {
		t.Fatalf("dedup marks: %v %v %v (%v %v %v)", first, again, other, err, err2, err3)
	}
	_, err = c.MarkDedup(ctx, &gsv1.MarkDedupRequest{TenantId: "t1", Key: "k"})
	wantCode(t, err, codes.InvalidArgument)

	for _, obj := range []string{"o1", "o2"} {
		if _, err := c.MarkEcho(ctx, &gsv1.MarkEchoRequest{TenantId: "t1", Side: gsv1.Side_SIDE_WIX, ObjectId: obj,
			ContentHash: "h-" + obj, Ttl: ttl(time.Minute)}); err != nil {
			t.Fatalf("mark echo: %v", err)
		}
	}
	_, err = c.MarkEcho(ctx, &gsv1.MarkEchoRequest{TenantId: "t1", ObjectId: "o3", ContentHash: "h", Ttl: ttl(time.Minute)})
	wantCode(t, err, codes.InvalidArgument)
	if marks := f.EchoMarks(); len(marks) != 2 || marks[0].GetObjectId() != "o1" || marks[1].GetObjectId() != "o2" || strings.Join(hooked, " ") != "o1 o2" {
		t.Fatalf("echo marks %v, hooked %v", marks, hooked)
	}
	checkEcho := func(hash string) bool {
		resp, err := c.CheckEcho(ctx, &gsv1.CheckEchoRequest{TenantId: "t1", Side: gsv1.Side_SIDE_WIX, ObjectId: "o1", ContentHash: hash})
		if err != nil {
			t.Fatalf("check echo: %v", err)
		}
		return resp.GetEcho()
	}
	if !checkEcho("h-o1") || checkEcho("other") {
		t.Fatal("echo check does not compare the hash")
	}

	acquire := func(owner string) bool {
		resp, err := c.AcquireLock(ctx, &gsv1.AcquireLockRequest{TenantId: "t1", Key: "lk", Owner: owner, Ttl: ttl(10 * time.Second)})
		if err != nil {
			t.Fatalf("acquire: %v", err)
		}
		return resp.GetAcquired()
	}
	if !acquire("a") || !acquire("a") || acquire("b") || f.Holder("t1", "lk") != "a" {
		t.Fatal("lease: want re-entrant for its owner and refused to another")
	}
	f.KeepLeases(true)
	if resp, err := c.ReleaseLock(ctx, &gsv1.ReleaseLockRequest{TenantId: "t1", Key: "lk", Owner: "a"}); err != nil || resp.GetReleased() {
		t.Fatalf("release while leases are kept: %v, %v", resp, err)
	}
	f.KeepLeases(false)

	if _, err := c.PutIntent(ctx, &gsv1.PutIntentRequest{Intent: &gsv1.Intent{TenantId: "t1", Key: "ik"}, Ttl: ttl(30 * time.Second)}); err != nil {
		t.Fatalf("put intent: %v", err)
	}
	if f.Intent("t1", "ik").GetCreatedAt() == nil {
		t.Fatal("intent without a creation time")
	}

	clk.advance(time.Minute)
	if resp, err := c.CheckDedup(ctx, &gsv1.CheckDedupRequest{TenantId: "t1", Key: "k"}); err != nil || resp.GetSeen() {
		t.Fatalf("dedup mark after its ttl: %v, %v", resp, err)
	}
	if checkEcho("h-o1") {
		t.Fatal("echo marker after its ttl")
	}
	if !acquire("b") || f.Holder("t1", "lk") != "b" {
		t.Fatal("expired lease not free for another owner")
	}
	_, err = c.GetIntent(ctx, &gsv1.GetIntentRequest{TenantId: "t1", Key: "ik"})
	wantCode(t, err, codes.NotFound)
}

func TestThrottleIsGCRA(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	f, c := mappingfake.Start(t, mappingfake.WithClock(clk.now))
	take := func() *gsv1.ThrottleResponse {
		resp, err := c.Throttle(ctx, &gsv1.ThrottleRequest{TenantId: "t1", Bucket: "wix", Limit: 10, Period: ttl(time.Second), Burst: 2})
		if err != nil {
			t.Fatalf("throttle: %v", err)
		}
		return resp
	}
	if !take().GetAllowed() || !take().GetAllowed() {
		t.Fatal("a full bucket refused its burst")
	}
	if r := take(); r.GetAllowed() || r.GetRetryAfter().AsDuration() != 100*time.Millisecond {
		t.Fatalf("empty bucket: %v, want refused with retry after 100ms", r)
	}
	clk.advance(100 * time.Millisecond)
	if !take().GetAllowed() {
		t.Fatal("refused after retry_after")
	}
	_, err := c.Throttle(ctx, &gsv1.ThrottleRequest{TenantId: "t1", Bucket: "wix", Period: ttl(time.Second)})
	wantCode(t, err, codes.InvalidArgument)
	if n := f.ThrottleCalls(); n != 4 {
		t.Fatalf("throttle calls %d, want 4", n)
	}

	_, unlimited := mappingfake.Start(t, mappingfake.WithClock(clk.now), mappingfake.WithUnlimitedThrottle())
	for range 5 {
		resp, err := unlimited.Throttle(ctx, &gsv1.ThrottleRequest{TenantId: "t1", Bucket: "wix", Limit: 1, Period: ttl(time.Hour)})
		if err != nil || !resp.GetAllowed() {
			t.Fatalf("unlimited throttle: %v, %v", resp, err)
		}
	}
}
