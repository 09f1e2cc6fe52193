package server

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

func TestSyncLog(t *testing.T) {
	t.Parallel()
	onEachStore(t, func(t *testing.T, c gsv1.MappingServiceClient, _ store.Store) {
		ctx := t.Context()
		for _, tenant := range []string{"t1", "t2"} {
			if _, err := c.PutLink(ctx, &gsv1.PutLinkRequest{Link: &gsv1.Link{TenantId: tenant, LinkId: "l1", GalleryId: "g", ConnectionId: "c"}}); err != nil {
				t.Fatal(err)
			}
		}
		entry := func(n int) *gsv1.LogEntry {
			return &gsv1.LogEntry{
				WixItemId: fmt.Sprintf("w%d", n%3), ExternalId: fmt.Sprintf("e%d", n%3), Target: gsv1.Side_SIDE_PLATFORM,
				Action: "update", Detail: strconv.Itoa(n), EventId: fmt.Sprintf("wix:ev%d", n),
			}
		}
		const written = store.MaxLogEntries + 20
		for n := range written {
			if _, err := c.AppendLog(ctx, &gsv1.AppendLogRequest{TenantId: "t1", LinkId: "l1", Entry: entry(n)}); err != nil {
				t.Fatalf("append entry %d: %v", n, err)
			}
		}
		list := func(t *testing.T, req *gsv1.ListLogRequest) []*gsv1.LogEntry {
			t.Helper()
			resp, err := c.ListLog(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			return resp.Entries
		}
		// want is the numbers of the newest entries, of item only when set.
		want := func(item string, limit int) []int {
			var out []int
			for n := written - 1; n >= written-store.MaxLogEntries && len(out) < limit; n-- {
				if item == "" || entry(n).WixItemId == item {
					out = append(out, n)
				}
			}
			return out
		}
		reads := []struct {
			name string
			req  *gsv1.ListLogRequest
			want []int
		}{
			{"default limit", &gsv1.ListLogRequest{TenantId: "t1", LinkId: "l1"}, want("", store.DefaultLogLimit)},
			{"limit 2", &gsv1.ListLogRequest{TenantId: "t1", LinkId: "l1", Limit: 2}, want("", 2)},
			{"capped at the log size", &gsv1.ListLogRequest{TenantId: "t1", LinkId: "l1", Limit: 5000}, want("", store.MaxLogEntries)},
			{"one item", &gsv1.ListLogRequest{TenantId: "t1", LinkId: "l1", WixItemId: "w2", Limit: 400}, want("w2", 400)},
			{"another tenant's link of the same id", &gsv1.ListLogRequest{TenantId: "t2", LinkId: "l1"}, nil},
			{"unknown link", &gsv1.ListLogRequest{TenantId: "t1", LinkId: "l9"}, nil},
		}
		for _, r := range reads {
			t.Run(r.name, func(t *testing.T) {
				got := list(t, r.req)
				if len(got) != len(r.want) {
					t.Fatalf("%d entries, want %d", len(got), len(r.want))
				}
				for i, n := range r.want {
					e := proto.Clone(got[i]).(*gsv1.LogEntry)
					if e.At == nil || time.Since(e.At.AsTime()).Abs() > time.Minute {
						t.Fatalf("entry %d has at %v, want the time of the append", n, e.At)
					}
					e.At = nil
					if !proto.Equal(e, entry(n)) {
						t.Fatalf("entry %d of the list: %v, want %v", i, got[i], entry(n))
					}
				}
			})
		}
		t.Run("a time sent is kept", func(t *testing.T) {
			at := timestamppb.New(time.Date(2025, 2, 3, 4, 5, 6, 7, time.UTC))
			if _, err := c.AppendLog(ctx, &gsv1.AppendLogRequest{TenantId: "t2", LinkId: "l1",
				Entry: &gsv1.LogEntry{At: at, WixItemId: "w1", Action: "echo_dropped", Target: gsv1.Side_SIDE_WIX}}); err != nil {
				t.Fatal(err)
			}
			got := list(t, &gsv1.ListLogRequest{TenantId: "t2", LinkId: "l1"})
			if len(got) != 1 || !proto.Equal(got[0].At, at) || got[0].Action != "echo_dropped" {
				t.Fatalf("log of t2 is %v, want the one entry at %v", got, at.AsTime())
			}
		})
		t.Run("append to an absent link", func(t *testing.T) {
			_, err := c.AppendLog(ctx, &gsv1.AppendLogRequest{TenantId: "t1", LinkId: "l9", Entry: entry(1)})
			wantCode(t, "AppendLog to an absent link", err, codes.NotFound)
			_, err = c.AppendLog(ctx, &gsv1.AppendLogRequest{TenantId: "t3", LinkId: "l1", Entry: entry(1)})
			wantCode(t, "AppendLog to a link of another tenant", err, codes.NotFound)
		})
	})
}
