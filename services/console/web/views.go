package web

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"gallerysync.dev/libs/bus"
	"gallerysync.dev/libs/wix"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// The views below are what pages render and the API returns.

// GalleryView is one Pro Gallery with its cover.
type GalleryView struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Items    int    `json:"items"`
	CoverURL string `json:"cover_url,omitempty"`
	CoverAlt string `json:"cover_alt,omitempty"`
}

// GalleriesView is one page of galleries (10 a page, as Wix lists them).
type GalleriesView struct {
	Galleries []GalleryView `json:"galleries"`
	Page      int           `json:"page"`
	Pages     int           `json:"pages"`
	Total     int           `json:"total"`
}

// ConnectionView is a connected account, without its credentials.
type ConnectionView struct {
	ID          string    `json:"id"`
	Platform    string    `json:"platform"`
	BaseURL     string    `json:"base_url"`
	AccountID   string    `json:"account_id"`
	DisplayName string    `json:"display_name"`
	CreatedAt   time.Time `json:"created_at"`
}

// JobView is a share job with its progress.
type JobView struct {
	ID          string    `json:"id"`
	LinkID      string    `json:"link_id"`
	State       string    `json:"state"`
	Total       int       `json:"total"`
	Done        int       `json:"done"`
	Failed      int       `json:"failed"`
	Percent     int       `json:"percent"`
	PerSecond   float64   `json:"items_per_second"`
	SecondsLeft int       `json:"seconds_left"`
	Error       string    `json:"error,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	FinishedAt  time.Time `json:"finished_at,omitzero"`
	CanPause    bool      `json:"can_pause"`
	CanResume   bool      `json:"can_resume"`
	CanCancel   bool      `json:"can_cancel"`
}

// Counts are a link's item mappings by state.
type Counts struct {
	Synced  int `json:"synced"`
	Pending int `json:"pending"`
	Deleted int `json:"deleted"`
}

// LogView is one entry of a link's sync log.
type LogView struct {
	At         time.Time `json:"at"`
	WixItemID  string    `json:"wix_item_id"`
	ExternalID string    `json:"external_id,omitempty"`
	// Target is the side written: "platform" or "wix".
	Target  string `json:"target"`
	Action  string `json:"action"`
	Detail  string `json:"detail,omitempty"`
	EventID string `json:"event_id,omitempty"`
}

// LinkView is a gallery <-> album link with its state.
type LinkView struct {
	ID             string    `json:"id"`
	GalleryID      string    `json:"gallery_id"`
	GalleryName    string    `json:"gallery_name"`
	ConnectionID   string    `json:"connection_id"`
	ConnectionName string    `json:"connection_name"`
	Platform       string    `json:"platform"`
	Album          string    `json:"album"`
	State          string    `json:"state"`
	Direction      string    `json:"direction"`
	CreatedAt      time.Time `json:"created_at"`
	Counts         Counts    `json:"counts"`
	LastToPlatform *LogView  `json:"last_to_platform,omitempty"`
	LastToWix      *LogView  `json:"last_to_wix,omitempty"`
	Jobs           []JobView `json:"jobs,omitempty"`
}

// ItemView is one item mapping: both ids and both sides' versions.
type ItemView struct {
	WixItemID       string            `json:"wix_item_id"`
	ExternalID      string            `json:"external_id"`
	State           string            `json:"state"`
	WixHash         string            `json:"wix_hash"`
	ExternalHash    string            `json:"external_hash"`
	WixVersion      time.Time         `json:"wix_version,omitzero"`
	ExternalVersion time.Time         `json:"external_version,omitzero"`
	SortOrder       float64           `json:"sort_order"`
	Revision        int64             `json:"revision"`
	UpdatedAt       time.Time         `json:"updated_at,omitzero"`
	Attrs           map[string]string `json:"external_attrs,omitempty"`
}

// FailureView is a dead letter of the tenant.
type FailureView struct {
	Seq        uint64    `json:"seq"`
	Time       time.Time `json:"time"`
	Subject    string    `json:"subject"`
	Consumer   string    `json:"consumer"`
	Error      string    `json:"error"`
	Deliveries uint64    `json:"deliveries"`
	EventID    string    `json:"event_id"`
	Kind       string    `json:"kind"`
	GalleryID  string    `json:"gallery_id,omitempty"`
	ItemID     string    `json:"item_id,omitempty"`
	ShareJobID string    `json:"share_job_id,omitempty"`
}

func galleryView(g wix.Gallery) GalleryView {
	v := GalleryView{ID: g.ID, Name: g.Name, Items: g.TotalItems}
	for _, it := range g.Items {
		if s := wix.Snapshot(it); s.GetMediaUrl() != "" && it.Video == nil {
			v.CoverURL, v.CoverAlt = s.GetMediaUrl(), s.GetAltText()
			if v.CoverAlt == "" {
				v.CoverAlt = it.Title
			}
			break
		}
	}
	return v
}

func connectionView(c *gsv1.Connection) ConnectionView {
	return ConnectionView{
		ID: c.GetConnectionId(), Platform: c.GetPlatform(), BaseURL: c.GetBaseUrl(),
		AccountID: c.GetAccountId(), DisplayName: c.GetDisplayName(), CreatedAt: timeOf(c.GetCreatedAt()),
	}
}

func logView(e *gsv1.LogEntry) *LogView {
	target := "platform"
	if e.GetTarget() == gsv1.Side_SIDE_WIX {
		target = "wix"
	}
	return &LogView{
		At: timeOf(e.GetAt()), WixItemID: e.GetWixItemId(), ExternalID: e.GetExternalId(),
		Target: target, Action: e.GetAction(), Detail: e.GetDetail(), EventID: e.GetEventId(),
	}
}

func itemView(m *gsv1.ItemMapping) ItemView {
	return ItemView{
		WixItemID: m.GetWixItemId(), ExternalID: m.GetExternalId(), State: itemState(m.GetState()),
		WixHash: m.GetWixHash(), ExternalHash: m.GetExternalHash(),
		WixVersion: timeOf(m.GetWixVersion()), ExternalVersion: timeOf(m.GetExternalVersion()),
		SortOrder: m.GetSortOrder(), Revision: m.GetRevision(), UpdatedAt: timeOf(m.GetUpdatedAt()),
		Attrs: m.GetExternalAttrs(),
	}
}

func failureView(dl bus.DeadLetter) FailureView {
	ev := dl.Event
	return FailureView{
		Seq: dl.Sequence, Time: dl.Time, Subject: dl.Subject, Consumer: dl.Consumer, Error: dl.Error,
		Deliveries: dl.Deliveries, EventID: ev.GetEventId(), Kind: kindName(ev.GetKind()),
		GalleryID: ev.GetGalleryId(), ItemID: ev.GetItem().GetItemId(), ShareJobID: ev.GetShareJobId(),
	}
}

func itemState(s gsv1.ItemState) string {
	switch s {
	case gsv1.ItemState_ITEM_STATE_PENDING_CREATE:
		return "pending"
	case gsv1.ItemState_ITEM_STATE_SYNCED:
		return "synced"
	case gsv1.ItemState_ITEM_STATE_DELETED:
		return "deleted"
	}
	return "unknown"
}

func linkState(s gsv1.LinkState) string {
	switch s {
	case gsv1.LinkState_LINK_STATE_ACTIVE:
		return "active"
	case gsv1.LinkState_LINK_STATE_PAUSED:
		return "paused"
	case gsv1.LinkState_LINK_STATE_ERROR:
		return "error"
	}
	return "unknown"
}

func directionName(d gsv1.Direction) string {
	if d == gsv1.Direction_DIRECTION_TWO_WAY {
		return "two way"
	}
	return "one way"
}

func kindName(k gsv1.ChangeKind) string {
	switch k {
	case gsv1.ChangeKind_CHANGE_KIND_ITEM_CREATED:
		return "item created"
	case gsv1.ChangeKind_CHANGE_KIND_ITEM_UPDATED:
		return "item updated"
	case gsv1.ChangeKind_CHANGE_KIND_ITEM_DELETED:
		return "item deleted"
	case gsv1.ChangeKind_CHANGE_KIND_UNSPECIFIED:
		return "unknown"
	}
	return k.String()
}

// timeOf is a stored time, zero when unset.
func timeOf(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}
