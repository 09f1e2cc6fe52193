package sandbox

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"gallerysync.dev/services/sandbox/wixsim"
)

// The demo site's fixed ids: a restarted sandbox seeds the same ones, so
// mappings stored by the rest of the system stay valid.
const (
	DemoInstanceID       = "9c1e0d7a-5b3f-4c2e-8f10-2d6b7a9e4c01"
	DemoOwnerUserID      = "51a0c3e2-7d4b-4f6a-9e21-3b8c5d7f0a12"
	DemoMastodonUsername = "gallerysync_demo"
	DemoMastodonToken    = "gallerysync-demo-mastodon-token"
	DemoPinterestUser    = "gallerysync_demo"
	DemoPinterestToken   = "gallerysync-demo-pinterest-token"
	DemoATProtoHandle    = "gallerysync-demo.test"
	DemoATProtoPassword  = "demo-app-password"
)

// Demo describes the seeded demo site and account.
type Demo struct {
	InstanceID, AppID, AppSecret, OwnerUserID string
	Galleries                                 []DemoGallery
	MastodonAccountID, MastodonUsername       string
	MastodonToken, MastodonBaseURL            string
	PinterestUsername, PinterestToken         string
	// PinterestBaseURL is the API base, ending in /v5.
	PinterestBaseURL string
	// The AT Protocol account: its PDS, handle, DID and app password.
	ATProtoBaseURL, ATProtoHandle, ATProtoDID, ATProtoPassword string
}

// DemoGallery is a seeded gallery and its item ids in display order.
type DemoGallery struct {
	ID, Name string
	ItemIDs  []string
}

type demoItem struct {
	id, title, description string
	width, height          int
}

type demoGallery struct {
	id, name string
	items    []demoItem
}

// demoAccountCreated is the creation time of the demo Mastodon account.
func demoAccountCreated() time.Time {
	return time.Date(2024, time.March, 1, 9, 0, 0, 0, time.UTC)
}

func demoGalleries() []demoGallery {
	return []demoGallery{
		{id: "2f1c7a3e-8b4d-4e6f-9a10-5c2d7e8f9a01", name: "Harbour at dawn", items: []demoItem{
			{"a0e1c2d3-1111-4a5b-8c6d-7e8f9a0b1c01", "Fishing boats at first light", "The trawlers leave before the sun is up.", 1200, 800},
			{"a0e1c2d3-1111-4a5b-8c6d-7e8f9a0b1c02", "Lighthouse over still water", "Not a ripple on the bay.", 800, 1200},
			{"a0e1c2d3-1111-4a5b-8c6d-7e8f9a0b1c03", "Gulls on the breakwater", "Waiting for the boats to come back.", 1024, 768},
		}},
		{id: "7b3e9d21-4c5a-4f8b-8e2d-1a6c3f9b7d02", name: "Mountain trail", items: []demoItem{
			{"b1f2d3e4-2222-4b6c-9d7e-8f9a0b1c2d01", "Trailhead in the fog", "Six in the morning, ten metres of sight.", 1200, 800},
			{"b1f2d3e4-2222-4b6c-9d7e-8f9a0b1c2d02", "Switchbacks above the treeline", "The path zigzags up the scree.", 900, 1200},
			{"b1f2d3e4-2222-4b6c-9d7e-8f9a0b1c2d03", "Summit cairn at noon", "Every hiker adds a stone.", 1280, 720},
		}},
	}
}

// Seed installs the demo: the Wix site with two galleries of generated
// photos and the Mastodon account. It sends no webhooks. Seeding again
// returns the same demo.
func (s *Sandbox) Seed() (Demo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.demo != nil {
		return cloneDemo(*s.demo), nil
	}
	s.wix.AddSite(DemoInstanceID, DemoOwnerUserID)
	demo := Demo{
		InstanceID:        DemoInstanceID,
		AppID:             s.cfg.AppID,
		AppSecret:         s.cfg.AppSecret,
		OwnerUserID:       DemoOwnerUserID,
		MastodonUsername:  DemoMastodonUsername,
		MastodonToken:     DemoMastodonToken,
		MastodonBaseURL:   s.base + MastodonPrefix,
		PinterestUsername: DemoPinterestUser,
		PinterestToken:    DemoPinterestToken,
		PinterestBaseURL:  s.base + PinterestPrefix + "/v5",
	}
	s.pinterest.AddAccount(DemoPinterestUser, DemoPinterestToken)
	demo.ATProtoBaseURL = s.base + ATProtoPrefix
	demo.ATProtoHandle = DemoATProtoHandle
	demo.ATProtoPassword = DemoATProtoPassword
	demo.ATProtoDID = s.atproto.AddAccount(DemoATProtoHandle, DemoATProtoPassword).DID
	for _, g := range demoGalleries() {
		if _, err := s.wix.CreateGallery(DemoInstanceID, g.name, wixsim.WithID(g.id)); err != nil {
			return Demo{}, fmt.Errorf("seed: %w", err)
		}
		dg := DemoGallery{ID: g.id, Name: g.name}
		for i, it := range g.items {
			f, err := s.wix.AddImage(DemoInstanceID, it.title, it.width, it.height)
			if err != nil {
				return Demo{}, fmt.Errorf("seed: %w", err)
			}
			_, err = s.wix.AddItem(DemoInstanceID, g.id, wixsim.Item{
				ID:          it.id,
				SortOrder:   float64(i+1) * 1000,
				Title:       it.title,
				Description: it.description,
				Image:       &wixsim.ItemImage{ImageInfo: &wixsim.ImageInfo{ID: f.ID, AltText: it.title}},
			})
			if err != nil {
				return Demo{}, fmt.Errorf("seed: %w", err)
			}
			dg.ItemIDs = append(dg.ItemIDs, it.id)
		}
		demo.Galleries = append(demo.Galleries, dg)
	}
	s.clock.during(demoAccountCreated(), func() {
		demo.MastodonAccountID = s.mastodon.AddAccount(DemoMastodonUsername, DemoMastodonToken).ID
	})
	s.demo = &demo
	s.log.Info("demo seeded", "instance_id", demo.InstanceID, "galleries", len(demo.Galleries),
		"mastodon_account_id", demo.MastodonAccountID)
	return cloneDemo(demo), nil
}

// seeded returns the demo if Seed has run.
func (s *Sandbox) seeded() (Demo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.demo == nil {
		return Demo{}, false
	}
	return cloneDemo(*s.demo), true
}

func cloneDemo(d Demo) Demo {
	d.Galleries = slices.Clone(d.Galleries)
	for i := range d.Galleries {
		d.Galleries[i].ItemIDs = slices.Clone(d.Galleries[i].ItemIDs)
	}
	return d
}

// seedClock is the Mastodon emulator's clock. Mastodon ids are snowflakes
// made from the time, so while the demo account is added the clock reads a
// fixed date and a restarted sandbox gives the account the same id.
type seedClock struct {
	mu    sync.Mutex
	fixed time.Time
}

// Now is the fixed time during seeding, the real time otherwise.
func (c *seedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.fixed.IsZero() {
		return c.fixed
	}
	return time.Now()
}

// during runs f with the clock stopped at t.
func (c *seedClock) during(t time.Time, f func()) {
	c.mu.Lock()
	c.fixed = t
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.fixed = time.Time{}
		c.mu.Unlock()
	}()
	f()
}
