package mastodon

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gallerysync.dev/libs/platforms"
)

// id is an entity id. Mastodon sends strings; some compatible servers send
// numbers, which are accepted too.
type id string

// UnmarshalJSON implements json.Unmarshaler.
func (i *id) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*i = id(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("id: %w", err)
	}
	*i = id(n.String())
	return nil
}

// attachment is the part of a MediaAttachment the adapter reads.
type attachment struct {
	ID          id      `json:"id"`
	URL         *string `json:"url"`
	Description *string `json:"description"`
}

// tag is a Status::Tag; Name is without '#'.
type tag struct {
	Name string `json:"name"`
}

// status is the part of a Status entity the adapter and its watcher read.
type status struct {
	ID               id              `json:"id"`
	CreatedAt        string          `json:"created_at"`
	EditedAt         *string         `json:"edited_at"`
	URL              *string         `json:"url"`
	URI              string          `json:"uri"`
	Content          string          `json:"content"`
	Account          struct{ ID id } `json:"account"`
	Tags             []tag           `json:"tags"`
	MediaAttachments []attachment    `json:"media_attachments"`
	Reblog           json.RawMessage `json:"reblog"`
}

// firstMedia is the id of a status's first attachment, "" when it has none.
func (s status) firstMedia() string {
	if len(s.MediaAttachments) == 0 {
		return ""
	}
	return string(s.MediaAttachments[0].ID)
}

// descriptions are the attachments' descriptions in order ("" for none).
func (s status) descriptions() []string {
	out := make([]string, 0, len(s.MediaAttachments))
	for _, m := range s.MediaAttachments {
		out = append(out, deref(m.Description))
	}
	return out
}

// hash is the status's observed hash (see Adapter.Expect).
func (s status) hash() string {
	return observedHash(canonicalHTML(s.Content), s.descriptions())
}

// isReblog reports whether the status is a boost of another one.
func (s status) isReblog() bool {
	r := strings.TrimSpace(string(s.Reblog))
	return r != "" && r != "null"
}

// hasTag reports whether the status carries the hashtag, compared as
// Mastodon compares tags (case-insensitively).
func (s status) hasTag(album string) bool {
	want := normalizeTag(album)
	for _, t := range s.Tags {
		if normalizeTag(t.Name) == want {
			return true
		}
	}
	return false
}

// updatedAt is when the status last changed: its edit time, else its
// creation time; zero when neither parses.
func (s status) updatedAt() time.Time {
	for _, v := range []string{deref(s.EditedAt), s.CreatedAt} {
		if v == "" {
			continue
		}
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// observed is the status as an item of album: its text parsed back into
// the fields statusText laid out, the first attachment as the media.
func (s status) observed(album string) platforms.Observed {
	title, desc, link := parseStatusText(paragraphs(s.Content), album)
	c := platforms.Content{Title: title, Description: desc, LinkURL: link}
	attrs := map[string]string{}
	if len(s.MediaAttachments) > 0 {
		first := s.MediaAttachments[0]
		c.AltText = deref(first.Description)
		c.MediaURL = deref(first.URL)
		attrs[AttrMediaID] = string(first.ID)
	}
	permalink := deref(s.URL)
	if permalink == "" {
		permalink = s.URI
	}
	return platforms.Observed{
		Remote:    platforms.Remote{ID: string(s.ID), Attrs: attrs, Hash: s.hash()},
		Album:     album,
		Content:   c,
		Permalink: permalink,
		UpdatedAt: s.updatedAt(),
	}
}

// normalizeTag is a hashtag as Mastodon compares it: without '#', lower case.
func normalizeTag(s string) string {
	return strings.ToLower(strings.TrimLeft(strings.TrimSpace(s), "#"))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
