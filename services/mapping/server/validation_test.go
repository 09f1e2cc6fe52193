package server

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

func TestValidation(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	ctx := t.Context()
	hour := durationpb.New(time.Hour)
	running := gsv1.ShareState_SHARE_STATE_RUNNING
	cases := []struct {
		name string
		call func() error
		want string // a phrase the message must contain
	}{
		{"PutTenant without tenant", func() error { _, err := c.PutTenant(ctx, &gsv1.PutTenantRequest{}); return err }, "tenant: missing"},
		{"GetTenant without id", func() error { _, err := c.GetTenant(ctx, &gsv1.GetTenantRequest{}); return err }, "tenant_id: must not be empty"},
		{"GetTenant id too long", func() error {
			_, err := c.GetTenant(ctx, &gsv1.GetTenantRequest{TenantId: strings.Repeat("t", 257)})
			return err
		}, "tenant_id: 257 bytes, at most 256"},
		{"GetTenant control character", func() error {
			_, err := c.GetTenant(ctx, &gsv1.GetTenantRequest{TenantId: "t\x07"})
			return err
		}, "tenant_id: control character"},
		{"PutConnection without platform", func() error {
			_, err := c.PutConnection(ctx, &gsv1.PutConnectionRequest{Connection: &gsv1.Connection{TenantId: "t", ConnectionId: "c"}})
			return err
		}, "platform: must not be empty"},
		{"GetConnection without connection id", func() error {
			_, err := c.GetConnection(ctx, &gsv1.GetConnectionRequest{TenantId: "t"})
			return err
		}, "connection_id: must not be empty"},
		{"PutLink without connection", func() error {
			_, err := c.PutLink(ctx, &gsv1.PutLinkRequest{Link: &gsv1.Link{TenantId: "t", LinkId: "l", GalleryId: "g"}})
			return err
		}, "connection_id: must not be empty"},
		{"GetLink without tenant", func() error { _, err := c.GetLink(ctx, &gsv1.GetLinkRequest{LinkId: "l"}); return err }, "tenant_id: must not be empty"},
		{"ListLinks without tenant", func() error { _, err := c.ListLinks(ctx, &gsv1.ListLinksRequest{}); return err }, "tenant_id: must not be empty"},
		{"GetItem without key", func() error {
			_, err := c.GetItem(ctx, &gsv1.GetItemRequest{TenantId: "t", LinkId: "l"})
			return err
		}, "set wix_item_id or external_id"},
		{"GetItem with empty external id", func() error {
			_, err := c.GetItem(ctx, &gsv1.GetItemRequest{TenantId: "t", LinkId: "l", Key: &gsv1.GetItemRequest_ExternalId{}})
			return err
		}, "external_id: must not be empty"},
		{"PutItem without item", func() error { _, err := c.PutItem(ctx, &gsv1.PutItemRequest{}); return err }, "item: missing"},
		{"PutItem negative revision", func() error {
			_, err := c.PutItem(ctx, &gsv1.PutItemRequest{
				Item: &gsv1.ItemMapping{TenantId: "t", LinkId: "l", WixItemId: "w"}, ExpectedRevision: -1,
			})
			return err
		}, "expected_revision: -1 is negative"},
		{"DeleteItem without wix id", func() error {
			_, err := c.DeleteItem(ctx, &gsv1.DeleteItemRequest{TenantId: "t", LinkId: "l"})
			return err
		}, "wix_item_id: must not be empty"},
		{"ListItems negative page size", func() error {
			_, err := c.ListItems(ctx, &gsv1.ListItemsRequest{TenantId: "t", LinkId: "l", PageSize: -5})
			return err
		}, "page_size: -5 is negative"},
		{"ListItems foreign token", func() error {
			_, err := c.ListItems(ctx, &gsv1.ListItemsRequest{TenantId: "t", LinkId: "l", PageToken: "abc"})
			return err
		}, "page_token"},
		{"MarkEcho without ttl", func() error {
			_, err := c.MarkEcho(ctx, &gsv1.MarkEchoRequest{TenantId: "t", Side: gsv1.Side_SIDE_WIX, ObjectId: "o", ContentHash: "h"})
			return err
		}, "ttl: missing"},
		{"MarkEcho negative ttl", func() error {
			_, err := c.MarkEcho(ctx, &gsv1.MarkEchoRequest{TenantId: "t", Side: gsv1.Side_SIDE_WIX, ObjectId: "o", ContentHash: "h",
				Ttl: durationpb.New(-time.Second)})
			return err
		}, "ttl: -1s"},
		{"CheckEcho without side", func() error {
			_, err := c.CheckEcho(ctx, &gsv1.CheckEchoRequest{TenantId: "t", ObjectId: "o", ContentHash: "h"})
			return err
		}, "side"},
		{"MarkDedup without key", func() error {
			_, err := c.MarkDedup(ctx, &gsv1.MarkDedupRequest{TenantId: "t", Ttl: hour})
			return err
		}, "key: must not be empty"},
		{"CheckDedup without tenant", func() error {
			_, err := c.CheckDedup(ctx, &gsv1.CheckDedupRequest{Key: "k"})
			return err
		}, "tenant_id: must not be empty"},
		{"AcquireLock without owner", func() error {
			_, err := c.AcquireLock(ctx, &gsv1.AcquireLockRequest{TenantId: "t", Key: "k", Ttl: hour})
			return err
		}, "owner: must not be empty"},
		{"ReleaseLock without key", func() error {
			_, err := c.ReleaseLock(ctx, &gsv1.ReleaseLockRequest{TenantId: "t", Owner: "o"})
			return err
		}, "key: must not be empty"},
		{"RemoveTenant without id", func() error { _, err := c.RemoveTenant(ctx, &gsv1.RemoveTenantRequest{}); return err }, "tenant_id: must not be empty"},
		{"ListLinks connection filter too long", func() error {
			_, err := c.ListLinks(ctx, &gsv1.ListLinksRequest{TenantId: "t", ConnectionId: strings.Repeat("c", 257)})
			return err
		}, "connection_id: 257 bytes"},
		{"ListLinks album filter with control character", func() error {
			_, err := c.ListLinks(ctx, &gsv1.ListLinksRequest{TenantId: "t", AlbumId: "a\nb"})
			return err
		}, "album_id: control character"},
		{"PutIntent without intent", func() error { _, err := c.PutIntent(ctx, &gsv1.PutIntentRequest{Ttl: hour}); return err }, "intent: missing"},
		{"PutIntent without ttl", func() error {
			_, err := c.PutIntent(ctx, &gsv1.PutIntentRequest{Intent: &gsv1.Intent{TenantId: "t", Key: "k"}})
			return err
		}, "ttl: missing"},
		{"PutIntent key too long", func() error {
			_, err := c.PutIntent(ctx, &gsv1.PutIntentRequest{Intent: &gsv1.Intent{TenantId: "t", Key: strings.Repeat("k", 1025)}, Ttl: hour})
			return err
		}, "key: 1025 bytes, at most 1024"},
		{"PutIntent attr value too long", func() error {
			_, err := c.PutIntent(ctx, &gsv1.PutIntentRequest{Intent: &gsv1.Intent{TenantId: "t", Key: "k",
				Attrs: map[string]string{"url": strings.Repeat("u", 4097)}}, Ttl: hour})
			return err
		}, "attrs[url]: 4097 bytes, at most 4096"},
		{"GetIntent without key", func() error { _, err := c.GetIntent(ctx, &gsv1.GetIntentRequest{TenantId: "t"}); return err }, "key: must not be empty"},
		{"DeleteIntent without tenant", func() error { _, err := c.DeleteIntent(ctx, &gsv1.DeleteIntentRequest{Key: "k"}); return err }, "tenant_id: must not be empty"},
		{"Throttle without bucket", func() error {
			_, err := c.Throttle(ctx, &gsv1.ThrottleRequest{TenantId: "t", Limit: 1, Period: hour})
			return err
		}, "bucket: must not be empty"},
		{"Throttle limit 0", func() error {
			_, err := c.Throttle(ctx, &gsv1.ThrottleRequest{TenantId: "t", Bucket: "wix", Period: hour})
			return err
		}, "limit: 0, at least 1 required"},
		{"Throttle without period", func() error {
			_, err := c.Throttle(ctx, &gsv1.ThrottleRequest{TenantId: "t", Bucket: "wix", Limit: 1})
			return err
		}, "period: missing"},
		{"Throttle negative period", func() error {
			_, err := c.Throttle(ctx, &gsv1.ThrottleRequest{TenantId: "t", Bucket: "wix", Limit: 1, Period: durationpb.New(-time.Second)})
			return err
		}, "period: -1s, must be positive"},
		{"Throttle malformed period", func() error {
			_, err := c.Throttle(ctx, &gsv1.ThrottleRequest{TenantId: "t", Bucket: "wix", Limit: 1,
				Period: &durationpb.Duration{Seconds: 1, Nanos: -1}})
			return err
		}, "period: "},
		{"Throttle negative burst", func() error {
			_, err := c.Throttle(ctx, &gsv1.ThrottleRequest{TenantId: "t", Bucket: "wix", Limit: 1, Period: hour, Burst: -2})
			return err
		}, "burst: -2 is negative"},
		{"Throttle cost above burst", func() error {
			_, err := c.Throttle(ctx, &gsv1.ThrottleRequest{TenantId: "t", Bucket: "wix", Limit: 10, Period: hour, Burst: 2, Cost: 3})
			return err
		}, "cost: 3 exceeds burst 2"},
		{"Throttle cost above the default burst", func() error {
			_, err := c.Throttle(ctx, &gsv1.ThrottleRequest{TenantId: "t", Bucket: "wix", Limit: 10, Period: hour, Cost: 2})
			return err
		}, "cost: 2 exceeds burst 1"},
		{"Throttle faster than a microsecond", func() error {
			_, err := c.Throttle(ctx, &gsv1.ThrottleRequest{TenantId: "t", Bucket: "wix", Limit: 2_000_000, Period: durationpb.New(time.Second)})
			return err
		}, "more than one per microsecond"},
		{"ListConnections without tenant", func() error {
			_, err := c.ListConnections(ctx, &gsv1.ListConnectionsRequest{})
			return err
		}, "tenant_id: must not be empty"},
		{"DeleteLink without link", func() error {
			_, err := c.DeleteLink(ctx, &gsv1.DeleteLinkRequest{TenantId: "t"})
			return err
		}, "link_id: must not be empty"},
		{"PutShareJob without job", func() error { _, err := c.PutShareJob(ctx, &gsv1.PutShareJobRequest{}); return err }, "job: missing"},
		{"PutShareJob without link", func() error {
			_, err := c.PutShareJob(ctx, &gsv1.PutShareJobRequest{Job: &gsv1.ShareJob{TenantId: "t", JobId: "j", State: running}})
			return err
		}, "link_id: must not be empty"},
		{"PutShareJob without state", func() error {
			_, err := c.PutShareJob(ctx, &gsv1.PutShareJobRequest{Job: &gsv1.ShareJob{TenantId: "t", JobId: "j", LinkId: "l"}})
			return err
		}, "state: SHARE_STATE_UNSPECIFIED is not a share state"},
		{"PutShareJob negative total", func() error {
			_, err := c.PutShareJob(ctx, &gsv1.PutShareJobRequest{Job: &gsv1.ShareJob{TenantId: "t", JobId: "j", LinkId: "l", State: running, Total: -3}})
			return err
		}, "total: -3 is negative"},
		{"PutShareJob negative revision", func() error {
			_, err := c.PutShareJob(ctx, &gsv1.PutShareJobRequest{Job: &gsv1.ShareJob{TenantId: "t", JobId: "j", LinkId: "l", State: running},
				ExpectedRevision: -1})
			return err
		}, "expected_revision: -1 is negative"},
		{"PutShareJob error too long", func() error {
			_, err := c.PutShareJob(ctx, &gsv1.PutShareJobRequest{Job: &gsv1.ShareJob{TenantId: "t", JobId: "j", LinkId: "l", State: running,
				Error: strings.Repeat("e", 4097)}})
			return err
		}, "error: 4097 bytes, at most 4096"},
		{"GetShareJob without job", func() error {
			_, err := c.GetShareJob(ctx, &gsv1.GetShareJobRequest{TenantId: "t"})
			return err
		}, "job_id: must not be empty"},
		{"ListShareJobs link with control character", func() error {
			_, err := c.ListShareJobs(ctx, &gsv1.ListShareJobsRequest{TenantId: "t", LinkId: "l\x00"})
			return err
		}, "link_id: control character"},
		{"CountShareItem without item", func() error {
			_, err := c.CountShareItem(ctx, &gsv1.CountShareItemRequest{TenantId: "t", JobId: "j"})
			return err
		}, "item_id: must not be empty"},
		{"AppendLog without entry", func() error {
			_, err := c.AppendLog(ctx, &gsv1.AppendLogRequest{TenantId: "t", LinkId: "l"})
			return err
		}, "entry: missing"},
		{"AppendLog without action", func() error {
			_, err := c.AppendLog(ctx, &gsv1.AppendLogRequest{TenantId: "t", LinkId: "l", Entry: &gsv1.LogEntry{WixItemId: "w"}})
			return err
		}, "action: must not be empty"},
		{"AppendLog unknown target", func() error {
			_, err := c.AppendLog(ctx, &gsv1.AppendLogRequest{TenantId: "t", LinkId: "l", Entry: &gsv1.LogEntry{Action: "create", Target: 9}})
			return err
		}, "target: 9 is not a side"},
		{"AppendLog detail too long", func() error {
			_, err := c.AppendLog(ctx, &gsv1.AppendLogRequest{TenantId: "t", LinkId: "l", Entry: &gsv1.LogEntry{Action: "failed",
				Detail: strings.Repeat("d", 4097)}})
			return err
		}, "detail: 4097 bytes, at most 4096"},
		{"AppendLog malformed time", func() error {
			_, err := c.AppendLog(ctx, &gsv1.AppendLogRequest{TenantId: "t", LinkId: "l", Entry: &gsv1.LogEntry{Action: "create",
				At: &timestamppb.Timestamp{Seconds: 1, Nanos: -1}}})
			return err
		}, "at: "},
		{"ListLog without link", func() error { _, err := c.ListLog(ctx, &gsv1.ListLogRequest{TenantId: "t"}); return err }, "link_id: must not be empty"},
		{"ListLog negative limit", func() error {
			_, err := c.ListLog(ctx, &gsv1.ListLogRequest{TenantId: "t", LinkId: "l", Limit: -1})
			return err
		}, "limit: -1 is negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.call()
			wantCode(t, tc.name, err, codes.InvalidArgument)
			if msg := status.Convert(err).Message(); !strings.Contains(msg, tc.want) {
				t.Fatalf("message %q does not say %q", msg, tc.want)
			}
		})
	}
}
