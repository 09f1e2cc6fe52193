package stack

import (
	"context"
	"fmt"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/sandbox/sandbox"
)

// Demo describes the seeded demo site: where each service runs and the ids
// and credentials a person (or the smoke check) needs to act on it.
type Demo struct {
	SandboxURL string `json:"sandbox_url"`
	IngressURL string `json:"ingress_url"`
	// ConsoleURL is the dashboard; DashboardURL is the sandbox link that
	// opens it signed in as the demo site's owner, as the Wix dashboard does.
	ConsoleURL        string `json:"console_url,omitempty"`
	DashboardURL      string `json:"dashboard_url,omitempty"`
	MappingAddr       string `json:"mapping_addr"`
	NATSURL           string `json:"nats_url"`
	InstanceID        string `json:"instance_id"`
	AppID             string `json:"app_id"`
	LinkedGalleryID   string `json:"linked_gallery_id"`
	OtherGalleryID    string `json:"other_gallery_id"`
	ConnectionID      string `json:"connection_id"`
	LinkID            string `json:"link_id"`
	Hashtag           string `json:"hashtag"`
	MastodonBaseURL   string `json:"mastodon_base_url"`
	MastodonAccountID string `json:"mastodon_account_id"`
	MastodonUsername  string `json:"mastodon_username"`
	MastodonToken     string `json:"mastodon_token"`
	// The other platforms' demo accounts, connected but not linked: link a
	// gallery to them from the dashboard.
	PinterestConnectionID string `json:"pinterest_connection_id"`
	PinterestBaseURL      string `json:"pinterest_base_url"`
	PinterestToken        string `json:"pinterest_token"`
	ATProtoConnectionID   string `json:"atproto_connection_id"`
	ATProtoBaseURL        string `json:"atproto_base_url"`
	ATProtoHandle         string `json:"atproto_handle"`
	ATProtoPassword       string `json:"atproto_password"`
}

// Fixed ids, so a restart over the same data dir finds the same records.
const (
	demoConnectionID = "demo-mastodon"
	demoPinterestID  = "demo-pinterest"
	demoATProtoID    = "demo-atproto"
	demoLinkID       = "demo-link"
	demoHashtag      = "harbouratdawn"
)

// seedMapping records the demo tenant, its Mastodon connection and the link of
// the first gallery to the account's hashtag. Every call is a create-or-replace,
// so it is safe on every start.
func seedMapping(ctx context.Context, mc gsv1.MappingServiceClient, seed sandbox.Demo) (Demo, error) {
	if len(seed.Galleries) < 2 {
		return Demo{}, fmt.Errorf("seed: want 2 galleries, got %d", len(seed.Galleries))
	}
	tenant := seed.InstanceID
	if _, err := mc.PutTenant(ctx, &gsv1.PutTenantRequest{Tenant: &gsv1.Tenant{
		TenantId: tenant, State: gsv1.TenantState_TENANT_STATE_ACTIVE, DisplayName: "Demo site",
	}}); err != nil {
		return Demo{}, fmt.Errorf("seed tenant: %w", err)
	}
	if _, err := mc.PutConnection(ctx, &gsv1.PutConnectionRequest{Connection: &gsv1.Connection{
		TenantId:     tenant,
		ConnectionId: demoConnectionID,
		Platform:     "mastodon",
		BaseUrl:      seed.MastodonBaseURL,
		AccountId:    seed.MastodonAccountID,
		DisplayName:  "@" + seed.MastodonUsername,
		Credentials:  []byte(seed.MastodonToken),
	}}); err != nil {
		return Demo{}, fmt.Errorf("seed connection: %w", err)
	}
	for _, c := range []*gsv1.Connection{
		{TenantId: tenant, ConnectionId: demoPinterestID, Platform: "pinterest", BaseUrl: seed.PinterestBaseURL,
			AccountId: seed.PinterestUsername, DisplayName: seed.PinterestUsername, Credentials: []byte(seed.PinterestToken)},
		{TenantId: tenant, ConnectionId: demoATProtoID, Platform: "atproto", BaseUrl: seed.ATProtoBaseURL,
			AccountId: seed.ATProtoHandle, DisplayName: "@" + seed.ATProtoHandle, Credentials: []byte(seed.ATProtoPassword)},
	} {
		if _, err := mc.PutConnection(ctx, &gsv1.PutConnectionRequest{Connection: c}); err != nil {
			return Demo{}, fmt.Errorf("seed connection %s: %w", c.GetConnectionId(), err)
		}
	}
	if _, err := mc.PutLink(ctx, &gsv1.PutLinkRequest{Link: &gsv1.Link{
		TenantId:     tenant,
		LinkId:       demoLinkID,
		GalleryId:    seed.Galleries[0].ID,
		ConnectionId: demoConnectionID,
		AlbumId:      demoHashtag,
		State:        gsv1.LinkState_LINK_STATE_ACTIVE,
		Direction:    gsv1.Direction_DIRECTION_TWO_WAY,
	}}); err != nil {
		return Demo{}, fmt.Errorf("seed link: %w", err)
	}
	return Demo{
		InstanceID:        tenant,
		AppID:             seed.AppID,
		LinkedGalleryID:   seed.Galleries[0].ID,
		OtherGalleryID:    seed.Galleries[1].ID,
		ConnectionID:      demoConnectionID,
		LinkID:            demoLinkID,
		Hashtag:           demoHashtag,
		MastodonBaseURL:   seed.MastodonBaseURL,
		MastodonAccountID: seed.MastodonAccountID,
		MastodonUsername:  seed.MastodonUsername,
		MastodonToken:     seed.MastodonToken,

		PinterestConnectionID: demoPinterestID,
		PinterestBaseURL:      seed.PinterestBaseURL,
		PinterestToken:        seed.PinterestToken,
		ATProtoConnectionID:   demoATProtoID,
		ATProtoBaseURL:        seed.ATProtoBaseURL,
		ATProtoHandle:         seed.ATProtoHandle,
		ATProtoPassword:       seed.ATProtoPassword,
	}, nil
}
