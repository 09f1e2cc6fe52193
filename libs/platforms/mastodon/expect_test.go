package mastodon_test

import (
	"context"
	"strings"
	"testing"

	"gallerysync.dev/libs/platforms"
	"gallerysync.dev/libs/platforms/mastodon"
)

// expectCases are contents whose text Mastodon renders in every way it
// knows: shortened long links, hashtags, paragraphs and line breaks,
// escaped characters, emoji, and text cut to fit 500 characters.
func expectCases(e *env) []struct {
	name string
	c    platforms.Content
} {
	img := e.origin.URL + "/img/a.png"
	return []struct {
		name string
		c    platforms.Content
	}{
		{"plain", platforms.Content{Title: "Sunset", Description: "Over the bay", MediaURL: img}},
		{"long link", platforms.Content{Title: "Read", LinkURL: "https://www.example.com/a/very/long/path/that/mastodon/shortens?with=query&and=more#frag", MediaURL: img}},
		{"hashtags in text", platforms.Content{Title: "Beach #summer", Description: "With #Friends and #café", MediaURL: img}},
		{"multi paragraph", platforms.Content{Title: "Title", Description: "First paragraph.\n\nSecond one,\nwith a line break.\n\n\nThird after extra blank lines.", MediaURL: img}},
		{"html special", platforms.Content{Title: `<b>Bold</b> & "quotes" 'single'`, Description: "a < b > c &amp; &lt;tag&gt; &#39;", AltText: `<alt> & "more"`, MediaURL: img}},
		{"emoji", platforms.Content{Title: "🌅 Sunrise 👨‍👩‍👧", Description: "☕️ then 🏖️", AltText: "🌊 waves", MediaURL: img}},
		{"surrounding whitespace", platforms.Content{Title: "  Spaced   out  ", Description: "\ttabs\tand  spaces\n", MediaURL: img}},
		{"cut to fit", platforms.Content{Title: "Long", Description: strings.Repeat("many words here ", 60), LinkURL: "https://example.com/x", MediaURL: img}},
		{"alt text falls back to the title", platforms.Content{Title: "Only a title", MediaURL: img}},
		{"no media", platforms.Content{Title: "Text only", Description: "No picture"}},
	}
}

func TestExpectIsTheHashMastodonShows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i, tc := range expectCases(e) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			want := e.adapter.Expect("holiday", tc.c)
			r, err := e.adapter.Create(ctx, e.conn, "holiday", tc.c, "key-"+tc.name)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if r.Hash != want {
				t.Fatalf("Create: Remote.Hash %q, Expect %q", r.Hash, want)
			}
			// The same content reached through an edit shows the same hash.
			other := platforms.Content{Title: "Before " + string(rune('a'+i)), MediaURL: tc.c.MediaURL}
			r2, err := e.adapter.Create(ctx, e.conn, "holiday", other, "key2-"+tc.name)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if r2.Hash == want {
				t.Fatalf("different content has the same hash %q", want)
			}
			up, err := e.adapter.Update(ctx, e.conn, "holiday", r2, tc.c)
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			if up.Hash != want {
				t.Fatalf("Update: Remote.Hash %q, Expect %q", up.Hash, want)
			}
			// And the listing reports it so.
			listed, err := e.adapter.List(ctx, e.conn, "holiday")
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			found := false
			for _, o := range listed {
				if o.ID == r.ID {
					found = true
					if o.Hash != want {
						t.Fatalf("List: Observed.Hash %q, Expect %q", o.Hash, want)
					}
				}
			}
			if !found {
				t.Fatalf("List does not report status %s", r.ID)
			}
		})
	}
}

func TestExpectChangesWithWhatIsShown(t *testing.T) {
	t.Parallel()
	a := mastodon.New(nil)
	base := platforms.Content{Title: "T", Description: "D", LinkURL: "https://l.example", AltText: "alt", MediaURL: "https://m/1.png", SortOrder: 1}
	h := a.Expect("album", base)
	tests := []struct {
		name   string
		album  string
		change func(c platforms.Content) platforms.Content
		same   bool
	}{
		{"sort order is not shown", "album", func(c platforms.Content) platforms.Content { c.SortOrder = 5; return c }, true},
		{"media source is not shown", "album", func(c platforms.Content) platforms.Content { c.MediaURL = "https://m/2.png"; return c }, true},
		{"line breaks are not told apart", "album", func(c platforms.Content) platforms.Content { c.Description = "D\n"; return c }, true},
		{"title", "album", func(c platforms.Content) platforms.Content { c.Title = "U"; return c }, false},
		{"description", "album", func(c platforms.Content) platforms.Content { c.Description = "E"; return c }, false},
		{"link", "album", func(c platforms.Content) platforms.Content { c.LinkURL = "https://k.example"; return c }, false},
		{"alt text", "album", func(c platforms.Content) platforms.Content { c.AltText = "other"; return c }, false},
		{"no media", "album", func(c platforms.Content) platforms.Content { c.MediaURL = ""; return c }, false},
		{"album", "other", func(c platforms.Content) platforms.Content { return c }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := a.Expect(tc.album, tc.change(base)); (got == h) != tc.same {
				t.Fatalf("hash equal: %v, want %v", got == h, tc.same)
			}
		})
	}
}
