package share_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/testkit/mappingfake"
	"gallerysync.dev/libs/wix"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/console/internal/fake"
	"gallerysync.dev/services/console/share"
)

// submitted records the jobs handed to the planner.
type submitted struct {
	mu   sync.Mutex
	jobs []string
}

func (s *submitted) Submit(tenant, jobID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs = append(s.jobs, tenant+"/"+jobID)
}

// albums is an AlbumMaker that records the names it was asked for.
type albums struct {
	mu    sync.Mutex
	names []string
	creds []string
}

func (a *albums) EnsureAlbum(_ context.Context, conn platforms.Connection, name string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.names = append(a.names, name)
	a.creds = append(a.creds, string(conn.Credentials))
	return "rkey-" + name, nil
}

func TestStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, mc := mappingfake.Start(t)
	w := fake.NewWix()
	w.AddGallery(tenant, wix.Gallery{ID: gallery, Name: "Harbour at dawn"})
	w.AddGallery("site-2", wix.Gallery{ID: "gal-other", Name: "Not yours"})
	for _, c := range []*gsv1.Connection{
		{TenantId: tenant, ConnectionId: "masto", Platform: "mastodon", Credentials: []byte("t1")},
		{TenantId: tenant, ConnectionId: "pds", Platform: "atproto", Credentials: []byte("app-pass")},
		{TenantId: tenant, ConnectionId: "pins", Platform: "pinterest", Credentials: []byte("t3")},
		{TenantId: "site-2", ConnectionId: "theirs", Platform: "mastodon", Credentials: []byte("t4")},
	} {
		if _, err := mc.PutConnection(ctx, &gsv1.PutConnectionRequest{Connection: c}); err != nil {
			t.Fatal(err)
		}
	}
	sub, al := &submitted{}, &albums{}
	s := share.NewStarter(mc, w, map[string]platforms.AlbumMaker{"atproto": al}, sub)
	oneWay := gsv1.Direction_DIRECTION_ONE_WAY

	job, err := s.Start(ctx, tenant, share.Request{GalleryID: gallery, ConnectionID: "masto", NewAlbum: true, Direction: oneWay})
	if err != nil {
		t.Fatal(err)
	}
	link, err := mc.GetLink(ctx, &gsv1.GetLinkRequest{TenantId: tenant, LinkId: job.GetLinkId()})
	if err != nil {
		t.Fatal(err)
	}
	if l := link.GetLink(); l.GetAlbumId() != "harbouratdawn" || l.GetGalleryId() != gallery || l.GetState() != gsv1.LinkState_LINK_STATE_ACTIVE || l.GetDirection() != oneWay {
		t.Fatalf("link %v: want the gallery on #harbouratdawn, active, one way", l)
	}
	if job.GetState() != gsv1.ShareState_SHARE_STATE_PLANNING || len(sub.jobs) != 1 || sub.jobs[0] != tenant+"/"+job.GetJobId() {
		t.Fatalf("job %v submitted %v: want a PLANNING job handed to the planner", job, sub.jobs)
	}
	again, err := s.Start(ctx, tenant, share.Request{GalleryID: gallery, ConnectionID: "masto", NewAlbum: true, Direction: oneWay})
	if err != nil || again.GetJobId() != job.GetJobId() || len(sub.jobs) != 1 {
		t.Fatalf("second start: job %v, %v; want the unfinished job %s again", again.GetJobId(), err, job.GetJobId())
	}

	pds, err := s.Start(ctx, tenant, share.Request{GalleryID: gallery, ConnectionID: "pds", NewAlbum: true, AlbumName: "Dawn", Direction: oneWay})
	if err != nil {
		t.Fatal(err)
	}
	pl, _ := mc.GetLink(ctx, &gsv1.GetLinkRequest{TenantId: tenant, LinkId: pds.GetLinkId()})
	if pl.GetLink().GetAlbumId() != "rkey-Dawn" || len(al.names) != 1 || al.creds[0] != "app-pass" {
		t.Fatalf("atproto album %q, maker asked %v: want the album made with the connection's credentials", pl.GetLink().GetAlbumId(), al.names)
	}

	tests := []struct {
		name string
		req  share.Request
	}{
		{"gallery of another site", share.Request{GalleryID: "gal-other", ConnectionID: "masto", NewAlbum: true, Direction: oneWay}},
		{"connection of another site", share.Request{GalleryID: gallery, ConnectionID: "theirs", NewAlbum: true, Direction: oneWay}},
		{"no direction", share.Request{GalleryID: gallery, ConnectionID: "masto", NewAlbum: true}},
		{"existing album without name", share.Request{GalleryID: gallery, ConnectionID: "masto", Direction: oneWay}},
		{"not a hashtag", share.Request{GalleryID: gallery, ConnectionID: "masto", AlbumID: "two words", Direction: oneWay}},
		{"new board without album maker", share.Request{GalleryID: gallery, ConnectionID: "pins", NewAlbum: true, Direction: oneWay}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Start(ctx, tenant, tt.req); !errors.Is(err, share.ErrBadRequest) {
				t.Fatalf("error %v, want ErrBadRequest", err)
			}
		})
	}
	links, _ := mc.ListLinks(ctx, &gsv1.ListLinksRequest{TenantId: tenant})
	if len(links.GetLinks()) != 2 {
		t.Fatalf("%d links, want the 2 of the successful starts", len(links.GetLinks()))
	}
}
