package mastodon_test

import (
	"testing"

	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/mastodon"
)

func TestFingerprint(t *testing.T) {
	t.Parallel()
	a := mastodon.New(nil)
	base := platforms.Content{Title: "T", Description: "D", LinkURL: "https://l", MediaURL: "https://m/1.png", SortOrder: 1}
	fp := a.Fingerprint("album", base)
	tests := []struct {
		name   string
		album  string
		change func(c platforms.Content) platforms.Content
		same   bool
	}{
		{"sort order is not written", "album", func(c platforms.Content) platforms.Content { c.SortOrder = 9; return c }, true},
		{"mime type is not written", "album", func(c platforms.Content) platforms.Content { c.MimeType = "image/jpeg"; return c }, true},
		{"title", "album", func(c platforms.Content) platforms.Content { c.Title = "U"; return c }, false},
		{"alt text", "album", func(c platforms.Content) platforms.Content { c.AltText = "alt"; return c }, false},
		{"media", "album", func(c platforms.Content) platforms.Content { c.MediaURL = "https://m/2.png"; return c }, false},
		{"album", "other", func(c platforms.Content) platforms.Content { return c }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := a.Fingerprint(tc.album, tc.change(base)); (got == fp) != tc.same {
				t.Fatalf("fingerprint equal: %v, want %v", got == fp, tc.same)
			}
		})
	}
}
