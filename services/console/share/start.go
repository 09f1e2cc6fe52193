package share

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/wix"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Errors of Start that say what to fix in the request.
var (
	// ErrBadRequest: the gallery, connection or album cannot be used.
	ErrBadRequest = errors.New("cannot share")
)

// mastodonPlatform is the platform whose albums are hashtags.
const mastodonPlatform = "mastodon"

// maxHashtag bounds a hashtag made from a gallery name.
const maxHashtag = 60

// Request is what the site owner picked on the share page.
type Request struct {
	GalleryID    string
	ConnectionID string
	// NewAlbum makes (or finds) an album named AlbumName; otherwise AlbumID
	// names an existing one.
	NewAlbum  bool
	AlbumName string
	AlbumID   string
	Direction gsv1.Direction
}

// Submitter hands a new job to the planner.
type Submitter interface {
	Submit(tenant, jobID string)
}

// Starter starts shares.
type Starter struct {
	mapping gsv1.MappingServiceClient
	wix     Wix
	albums  map[string]platforms.AlbumMaker
	runner  Submitter
}

// NewStarter returns a Starter; albums holds the album makers of the
// platforms that have albums, by platform name.
func NewStarter(mapping gsv1.MappingServiceClient, w Wix, albums map[string]platforms.AlbumMaker, runner Submitter) *Starter {
	return &Starter{mapping: mapping, wix: w, albums: albums, runner: runner}
}

// Start links the gallery to the album (reusing a link that joins the
// same three already), records a PLANNING job and hands it to the planner.
// When the link has a job that is not finished, that job is returned and
// no new one is made. Everything is read within the tenant: a gallery or
// connection of another tenant is not found.
func (s *Starter) Start(ctx context.Context, tenant string, req Request) (*gsv1.ShareJob, error) {
	if req.Direction != gsv1.Direction_DIRECTION_ONE_WAY && req.Direction != gsv1.Direction_DIRECTION_TWO_WAY {
		return nil, fmt.Errorf("%w: choose one way or two way", ErrBadRequest)
	}
	g, err := s.wix.GetGallery(ctx, tenant, req.GalleryID, 0, 1)
	if errors.Is(err, wix.ErrNotFound) || errors.Is(err, wix.ErrInvalidRequest) {
		return nil, fmt.Errorf("%w: no such gallery on this site", ErrBadRequest)
	}
	if err != nil {
		return nil, fmt.Errorf("get gallery: %w", err)
	}
	conn, err := s.connection(ctx, tenant, req.ConnectionID)
	if err != nil {
		return nil, err
	}
	album, err := s.album(ctx, conn, req, g.Name)
	if err != nil {
		return nil, err
	}
	link, err := s.link(ctx, tenant, g.ID, conn.GetConnectionId(), album, req.Direction)
	if err != nil {
		return nil, err
	}
	jobs, err := s.mapping.ListShareJobs(ctx, &gsv1.ListShareJobsRequest{TenantId: tenant, LinkId: link.GetLinkId()})
	if err != nil {
		return nil, fmt.Errorf("list share jobs: %w", err)
	}
	for _, j := range jobs.GetJobs() {
		if Active(j.GetState()) {
			return j, nil
		}
	}
	id, err := newID("job-")
	if err != nil {
		return nil, err
	}
	put, err := s.mapping.PutShareJob(ctx, &gsv1.PutShareJobRequest{Job: &gsv1.ShareJob{
		TenantId: tenant, JobId: id, LinkId: link.GetLinkId(), State: gsv1.ShareState_SHARE_STATE_PLANNING,
	}})
	if err != nil {
		return nil, fmt.Errorf("put share job: %w", err)
	}
	s.runner.Submit(tenant, id)
	return put.GetJob(), nil
}

// connection returns the tenant's connection with its credentials, which
// an album maker needs.
func (s *Starter) connection(ctx context.Context, tenant, id string) (*gsv1.Connection, error) {
	list, err := s.mapping.ListConnections(ctx, &gsv1.ListConnectionsRequest{TenantId: tenant})
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	for _, c := range list.GetConnections() {
		if c.GetConnectionId() == id && id != "" {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%w: no such connection", ErrBadRequest)
}

// album is the album id to link to.
func (s *Starter) album(ctx context.Context, conn *gsv1.Connection, req Request, galleryName string) (string, error) {
	platform := conn.GetPlatform()
	if !req.NewAlbum {
		id := strings.TrimPrefix(strings.TrimSpace(req.AlbumID), "#")
		if id == "" {
			return "", fmt.Errorf("%w: name the existing album", ErrBadRequest)
		}
		if platform == mastodonPlatform && Hashtag(id) != strings.ToLower(id) {
			return "", fmt.Errorf("%w: %q is not a hashtag (letters, digits and _ only)", ErrBadRequest, id)
		}
		return id, nil
	}
	name := strings.TrimSpace(req.AlbumName)
	if name == "" {
		name = galleryName
	}
	if platform == mastodonPlatform {
		return Hashtag(name), nil
	}
	maker, ok := s.albums[platform]
	if !ok {
		return "", fmt.Errorf("%w: new albums on %s are not supported yet; name an existing one", ErrBadRequest, platform)
	}
	full, err := s.mapping.GetConnection(ctx, &gsv1.GetConnectionRequest{TenantId: conn.GetTenantId(), ConnectionId: conn.GetConnectionId()})
	if err != nil {
		return "", fmt.Errorf("get connection: %w", err)
	}
	c := full.GetConnection()
	id, err := maker.EnsureAlbum(ctx, platforms.Connection{
		ID: c.GetConnectionId(), BaseURL: c.GetBaseUrl(), AccountID: c.GetAccountId(), Credentials: c.GetCredentials(),
	}, name)
	if err != nil {
		if errors.Is(err, platforms.ErrPermanent) {
			return "", fmt.Errorf("%w: %s refused to make the album: %w", ErrBadRequest, platform, err)
		}
		return "", fmt.Errorf("make album on %s: %w", platform, err)
	}
	return id, nil
}

// link returns the link joining gallery, connection and album, made when
// there is none; a link that exists is set active with the direction asked.
func (s *Starter) link(ctx context.Context, tenant, gallery, conn, album string, dir gsv1.Direction) (*gsv1.Link, error) {
	found, err := s.mapping.ListLinks(ctx, &gsv1.ListLinksRequest{TenantId: tenant, GalleryId: gallery, ConnectionId: conn, AlbumId: album})
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	l := &gsv1.Link{TenantId: tenant, GalleryId: gallery, ConnectionId: conn, AlbumId: album}
	if len(found.GetLinks()) > 0 {
		l = found.GetLinks()[0]
	} else if l.LinkId, err = newID("link-"); err != nil {
		return nil, err
	}
	l.State, l.Direction = gsv1.LinkState_LINK_STATE_ACTIVE, dir
	put, err := s.mapping.PutLink(ctx, &gsv1.PutLinkRequest{Link: l})
	if err != nil {
		return nil, fmt.Errorf("put link: %w", err)
	}
	return put.GetLink(), nil
}

// Hashtag makes a Mastodon hashtag (without '#') from a name: its letters,
// digits and underscores, lower case; "gallery" when none are left or only
// digits (a hashtag needs a letter).
func Hashtag(name string) string {
	var b strings.Builder
	n, letters := 0, false
	for _, r := range name {
		if n == maxHashtag {
			break
		}
		switch {
		case unicode.IsLetter(r):
			letters = true
		case unicode.IsDigit(r) || r == '_':
		default:
			continue
		}
		b.WriteRune(unicode.ToLower(r))
		n++
	}
	if !letters {
		return "gallery" + b.String()
	}
	return b.String()
}
