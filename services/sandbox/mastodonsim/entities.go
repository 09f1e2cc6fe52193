package mastodonsim

import "encoding/json"

// Account is the Account entity. AddAccount returns it; statuses embed it.
// Timestamps are strings in the API's Datetime format.
type Account struct {
	ID             string         `json:"id"`
	Username       string         `json:"username"`
	Acct           string         `json:"acct"`
	DisplayName    string         `json:"display_name"`
	Locked         bool           `json:"locked"`
	Bot            bool           `json:"bot"`
	Discoverable   bool           `json:"discoverable"`
	Group          bool           `json:"group"`
	CreatedAt      string         `json:"created_at"`
	Note           string         `json:"note"`
	URL            string         `json:"url"`
	Avatar         string         `json:"avatar"`
	AvatarStatic   string         `json:"avatar_static"`
	Header         string         `json:"header"`
	HeaderStatic   string         `json:"header_static"`
	FollowersCount int            `json:"followers_count"`
	FollowingCount int            `json:"following_count"`
	StatusesCount  int            `json:"statuses_count"`
	LastStatusAt   *string        `json:"last_status_at"`
	Emojis         []CustomEmoji  `json:"emojis"`
	Fields         []Field        `json:"fields"`
	Source         *AccountSource `json:"source,omitempty"`
}

// AccountSource is the extra "source" object of a CredentialAccount, returned
// only by verify_credentials.
type AccountSource struct {
	Privacy             string  `json:"privacy"`
	Sensitive           bool    `json:"sensitive"`
	Language            string  `json:"language"`
	Note                string  `json:"note"`
	Fields              []Field `json:"fields"`
	FollowRequestsCount int     `json:"follow_requests_count"`
}

// Field is a profile metadata field.
type Field struct {
	Name       string  `json:"name"`
	Value      string  `json:"value"`
	VerifiedAt *string `json:"verified_at"`
}

// CustomEmoji is a custom emoji; the emulator never defines any, but the
// arrays that hold them are always present.
type CustomEmoji struct {
	Shortcode       string `json:"shortcode"`
	URL             string `json:"url"`
	StaticURL       string `json:"static_url"`
	VisibleInPicker bool   `json:"visible_in_picker"`
}

// Status is the Status entity. Content is HTML; Text holds the plain source
// and appears only in the response to a delete, which has no content.
type Status struct {
	ID                 string            `json:"id"`
	CreatedAt          string            `json:"created_at"`
	InReplyToID        *string           `json:"in_reply_to_id"`
	InReplyToAccountID *string           `json:"in_reply_to_account_id"`
	Sensitive          bool              `json:"sensitive"`
	SpoilerText        string            `json:"spoiler_text"`
	Visibility         string            `json:"visibility"`
	Language           *string           `json:"language"`
	URI                string            `json:"uri"`
	URL                *string           `json:"url"`
	RepliesCount       int               `json:"replies_count"`
	ReblogsCount       int               `json:"reblogs_count"`
	FavouritesCount    int               `json:"favourites_count"`
	QuotesCount        int               `json:"quotes_count"`
	EditedAt           *string           `json:"edited_at"`
	Favourited         *bool             `json:"favourited,omitempty"`
	Reblogged          *bool             `json:"reblogged,omitempty"`
	Muted              *bool             `json:"muted,omitempty"`
	Bookmarked         *bool             `json:"bookmarked,omitempty"`
	Pinned             *bool             `json:"pinned,omitempty"`
	Content            string            `json:"content"`
	Text               *string           `json:"text,omitempty"`
	Reblog             *Status           `json:"reblog"`
	Application        *Application      `json:"application"`
	Account            Account           `json:"account"`
	MediaAttachments   []MediaAttachment `json:"media_attachments"`
	Mentions           []Mention         `json:"mentions"`
	Tags               []Tag             `json:"tags"`
	Emojis             []CustomEmoji     `json:"emojis"`
	Card               json.RawMessage   `json:"card"`
	Poll               json.RawMessage   `json:"poll"`
	Quote              json.RawMessage   `json:"quote"`
	QuoteApproval      *QuoteApproval    `json:"quote_approval,omitempty"`
}

// deletedStatus is the delete response: the status with its source text and
// without content. The outer Content hides the embedded one when encoding.
type deletedStatus struct {
	Status
	Content *string `json:"content,omitempty"`
}

// Application names the client that posted a status.
type Application struct {
	Name    string  `json:"name"`
	Website *string `json:"website"`
}

// Mention is a mentioned account (Status::Mention).
type Mention struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	URL      string `json:"url"`
	Acct     string `json:"acct"`
}

// Tag is a hashtag used in a status (Status::Tag); Name is lower-case.
type Tag struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// QuoteApproval summarizes who may quote a status.
type QuoteApproval struct {
	Automatic   []string `json:"automatic"`
	Manual      []string `json:"manual"`
	CurrentUser string   `json:"current_user"`
}

// MediaAttachment is the MediaAttachment entity.
type MediaAttachment struct {
	ID          string     `json:"id"`
	Type        string     `json:"type"`
	URL         *string    `json:"url"`
	PreviewURL  *string    `json:"preview_url"`
	RemoteURL   *string    `json:"remote_url"`
	Meta        *MediaMeta `json:"meta"`
	Description *string    `json:"description"`
	Blurhash    *string    `json:"blurhash"`
}

// MediaMeta holds the sizes of an attachment and its focal point.
type MediaMeta struct {
	Original *ImageSize `json:"original,omitempty"`
	Small    *ImageSize `json:"small,omitempty"`
	Focus    *Focus     `json:"focus,omitempty"`
}

// ImageSize describes one rendition of an image.
type ImageSize struct {
	Width  int     `json:"width"`
	Height int     `json:"height"`
	Size   string  `json:"size"`
	Aspect float64 `json:"aspect"`
}

// Focus is a focal point, each coordinate in -1..1.
type Focus struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// StatusEdit is one version of a status in its edit history.
type StatusEdit struct {
	Content          string            `json:"content"`
	SpoilerText      string            `json:"spoiler_text"`
	Sensitive        bool              `json:"sensitive"`
	CreatedAt        string            `json:"created_at"`
	Account          Account           `json:"account"`
	MediaAttachments []MediaAttachment `json:"media_attachments"`
	Emojis           []CustomEmoji     `json:"emojis"`
}

// StatusSource is the plain-text source of a status, for editing.
type StatusSource struct {
	ID          string `json:"id"`
	Text        string `json:"text"`
	SpoilerText string `json:"spoiler_text"`
}

// Stats counts what the emulator was asked to do. Writes count only when they
// took effect: an Idempotency-Key replay or a rejected request adds nothing.
// StatusesEdited counts every accepted edit request, including one that
// changed nothing (Mastodon then records no new version). Requests counts
// every request under /api/ but the streaming API, refused ones included;
// RateLimited counts 429s.
type Stats struct {
	StatusesCreated int64 `json:"statuses_created"`
	StatusesEdited  int64 `json:"statuses_edited"`
	StatusesDeleted int64 `json:"statuses_deleted"`
	MediaUploaded   int64 `json:"media_uploaded"`
	Requests        int64 `json:"requests"`
	RateLimited     int64 `json:"rate_limited"`
}
