package pinterestsim

// Account is a seeded Pinterest user.
type Account struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

// Board is the API's Board object, as GET /v5/boards/{board_id} answers.
// Date-times are RFC 3339 strings in UTC.
type Board struct {
	ID                  string     `json:"id"`
	CreatedAt           string     `json:"created_at"`
	BoardPinsModifiedAt string     `json:"board_pins_modified_at"`
	Name                string     `json:"name"`
	Description         *string    `json:"description"`
	CollaboratorCount   int        `json:"collaborator_count"`
	PinCount            int        `json:"pin_count"`
	FollowerCount       int        `json:"follower_count"`
	Media               BoardMedia `json:"media"`
	Owner               Owner      `json:"owner"`
	Privacy             string     `json:"privacy"`
	IsAdsOnly           bool       `json:"is_ads_only"`
}

// BoardMedia is a board's cover and thumbnails: the newest Pins' images.
type BoardMedia struct {
	ImageCoverURL    *string  `json:"image_cover_url"`
	PinThumbnailURLs []string `json:"pin_thumbnail_urls"`
}

// Owner names the user owning a board.
type Owner struct {
	Username string `json:"username"`
}

// Pin is the API's Pin object. The emulator fetches no media: every image
// size points at the media source URL the Pin was made from, with unknown
// dimensions (null), which the schema allows.
type Pin struct {
	ID              string   `json:"id"`
	CreatedAt       string   `json:"created_at"`
	Link            *string  `json:"link"`
	Title           *string  `json:"title"`
	Description     *string  `json:"description"`
	DominantColor   *string  `json:"dominant_color"`
	AltText         *string  `json:"alt_text"`
	CreativeType    string   `json:"creative_type"`
	BoardID         string   `json:"board_id"`
	BoardSectionID  *string  `json:"board_section_id"`
	BoardOwner      Owner    `json:"board_owner"`
	IsOwner         bool     `json:"is_owner"`
	Media           PinMedia `json:"media"`
	ParentPinID     *string  `json:"parent_pin_id"`
	IsStandard      bool     `json:"is_standard"`
	HasBeenPromoted bool     `json:"has_been_promoted"`
}

// PinMedia is an image Pin's media (media_type "image").
type PinMedia struct {
	MediaType string                  `json:"media_type"`
	Images    map[string]ImageDetails `json:"images"`
}

// ImageDetails is one size of a Pin's image.
type ImageDetails struct {
	Width  *int   `json:"width"`
	Height *int   `json:"height"`
	URL    string `json:"url"`
}

// Stats are the emulator's counters, served at GET /_sandbox/stats.
type Stats struct {
	// Requests counts every request to the API.
	Requests int64 `json:"requests"`
	// RateLimited counts calls refused with 429.
	RateLimited int64 `json:"rate_limited"`
	// Calls counts calls that passed authentication and the rate limit, by
	// the spec's operationId (e.g. "pins/create").
	Calls map[string]int64 `json:"calls"`
}
