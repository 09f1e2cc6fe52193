package wixsim

import "encoding/json"

// Item is a Pro Gallery item as the REST API sends it: camelCase, dates as
// RFC 3339 strings, exactly one of Image, Video or Text set.
type Item struct {
	ID          string     `json:"id,omitempty"`
	SortOrder   float64    `json:"sortOrder"`
	Title       string     `json:"title,omitempty"`
	Description string     `json:"description,omitempty"`
	Link        *Link      `json:"link,omitempty"`
	Type        string     `json:"type,omitempty"`
	CreatedDate string     `json:"createdDate,omitempty"`
	UpdatedDate string     `json:"updatedDate,omitempty"`
	Tags        *Tags      `json:"tags,omitempty"`
	Image       *ItemImage `json:"image,omitempty"`
	Video       *ItemVideo `json:"video,omitempty"`
	Text        *ItemText  `json:"text,omitempty"`
}

// Link is where a gallery item points to.
type Link struct {
	Text   string `json:"text,omitempty"`
	URL    string `json:"url,omitempty"`
	Target string `json:"target,omitempty"`
	Type   string `json:"type,omitempty"`
}

// Tags are the labels of a gallery item.
type Tags struct {
	Values []string `json:"values"`
}

// ItemImage is the image part of an item; ImageInfo names a Media Manager file.
type ItemImage struct {
	Type           string          `json:"type,omitempty"`
	ImageInfo      *ImageInfo      `json:"imageInfo,omitempty"`
	FocalPoint     *Point          `json:"focalPoint,omitempty"`
	Exif           json.RawMessage `json:"exif,omitempty"`
	Quality        *int            `json:"quality,omitempty"`
	UnsharpMasking *UnsharpMasking `json:"unsharpMasking,omitempty"`
}

// ImageInfo is wix.common.Image: a Media Manager image with its original size.
type ImageInfo struct {
	ID       string `json:"id"`
	URL      string `json:"url,omitempty"`
	Height   int    `json:"height"`
	Width    int    `json:"width"`
	AltText  string `json:"altText,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// Point is a focal point, both coordinates in 0..1.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// UnsharpMasking is the sharpening applied when the image is rendered.
type UnsharpMasking struct {
	Amount    float64 `json:"amount"`
	Radius    float64 `json:"radius"`
	Threshold float64 `json:"threshold"`
}

// ItemVideo is the video part of an item. VideoInfo is kept as sent because
// the emulator does not host videos.
type ItemVideo struct {
	Type             string          `json:"type,omitempty"`
	VideoInfo        json.RawMessage `json:"videoInfo,omitempty"`
	DurationInMillis int64           `json:"durationInMillis,omitempty"`
}

// ItemText is the text part of an item.
type ItemText struct {
	HTML         string          `json:"html"`
	CSS          json.RawMessage `json:"css,omitempty"`
	EditorHTML   string          `json:"editorHtml,omitempty"`
	EditorFontID string          `json:"editorFontId,omitempty"`
}

// Gallery is a Pro Gallery with TotalItems and one page of its items.
type Gallery struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	TotalItems  int     `json:"totalItems"`
	Items       []Item  `json:"items"`
	SortOrder   float64 `json:"sortOrder"`
	CreatedDate string  `json:"createdDate"`
}

// FileDescriptor is a Media Manager file as /site-media/v1 sends it.
type FileDescriptor struct {
	ID              string     `json:"id"`
	DisplayName     string     `json:"displayName"`
	URL             string     `json:"url"`
	ParentFolderID  string     `json:"parentFolderId"`
	Hash            string     `json:"hash"`
	SizeInBytes     string     `json:"sizeInBytes"`
	Private         bool       `json:"private"`
	MediaType       string     `json:"mediaType"`
	Media           *FileMedia `json:"media,omitempty"`
	OperationStatus string     `json:"operationStatus"`
	SourceURL       string     `json:"sourceUrl,omitempty"`
	ThumbnailURL    string     `json:"thumbnailUrl"`
	Labels          []string   `json:"labels"`
	CreatedDate     string     `json:"createdDate"`
	UpdatedDate     string     `json:"updatedDate"`
	SiteID          string     `json:"siteId"`
	State           string     `json:"state"`
}

// FileMedia holds the processed media of a READY file.
type FileMedia struct {
	Image *ImageMedia `json:"image,omitempty"`
}

// ImageMedia describes a READY image file.
type ImageMedia struct {
	Image MediaImage `json:"image"`
}

// MediaImage is the image of a file: id, static URL and original size.
type MediaImage struct {
	ID          string `json:"id"`
	URL         string `json:"url"`
	Height      int    `json:"height"`
	Width       int    `json:"width"`
	Filename    string `json:"filename"`
	SizeInBytes string `json:"sizeInBytes,omitempty"`
}

// ExternalInfo maps an imported file to an entity outside Wix.
type ExternalInfo struct {
	Origin      string   `json:"origin,omitempty"`
	ExternalIDs []string `json:"externalIds,omitempty"`
}

// Stats are the counters of one site, read by tests and the sandbox console.
type Stats struct {
	// Calls counts API calls that passed authentication and the rate limit,
	// by operation name (for example "CreateGalleryItem").
	Calls map[string]int64 `json:"calls"`
	// RateLimited counts calls answered 429.
	RateLimited int64 `json:"rateLimited"`
	// WebhooksQueued counts deliveries put on the queue: one per event,
	// plus the copies Faults.Duplicate adds.
	WebhooksQueued int64 `json:"webhooksQueued"`
	// WebhooksDelivered counts deliveries the receiver answered 200.
	WebhooksDelivered int64 `json:"webhooksDelivered"`
	// WebhookAttemptsFailed counts delivery attempts that did not get 200 in time.
	WebhookAttemptsFailed int64 `json:"webhookAttemptsFailed"`
	// WebhooksDropped counts deliveries given up after the last retry.
	WebhooksDropped int64 `json:"webhooksDropped"`
	// WebhooksPending is the number of deliveries queued, scheduled for a
	// retry or in flight right now.
	WebhooksPending int `json:"webhooksPending"`
	// ImportsPending is the number of imports still PENDING.
	ImportsPending int `json:"importsPending"`
}
