package pinterest

import (
	"strings"
	"testing"

	"gallerysync.dev/libs/platforms"
)

func TestMarkerRoundTrip(t *testing.T) {
	t.Parallel()
	ref := newMarker("key").ref
	tests := []struct {
		link, marked string
	}{
		{link: "https://example.com/p", marked: "https://example.com/p?gs_ref=" + ref},
		{link: "https://example.com/p?a=1", marked: "https://example.com/p?a=1&gs_ref=" + ref},
		{link: "https://example.com/p?", marked: "https://example.com/p?&gs_ref=" + ref},
		{link: "https://example.com/#/route?x=1", marked: "https://example.com/?gs_ref=" + ref + "#/route?x=1"},
		{link: "https://example.com/p?a=1#frag", marked: "https://example.com/p?a=1&gs_ref=" + ref + "#frag"},
		{link: "", marked: ""},
	}
	for _, tc := range tests {
		t.Run(tc.link, func(t *testing.T) {
			t.Parallel()
			got := withMarker(tc.link, ref)
			if got != tc.marked {
				t.Fatalf("withMarker = %q, want %q", got, tc.marked)
			}
			clean, gotRef := splitMarker(got)
			if clean != tc.link || (tc.link != "" && gotRef != ref) {
				t.Fatalf("splitMarker(%q) = %q, %q; want %q, %q", got, clean, gotRef, tc.link, ref)
			}
		})
	}
}

func TestSplitMarkerLeavesOtherLinksAlone(t *testing.T) {
	t.Parallel()
	for _, link := range []string{
		"https://example.com/p?gs_ref=short",
		"https://example.com/p?gs_ref=0123456789ABCDEF", // not our lower-case hex
		"https://example.com/p?gs_ref=0123456789abcdef&more=1",
		"https://example.com/p?xgs_ref=0123456789abcdef",
		"gs_ref=0123456789abcdef",
	} {
		if clean, ref := splitMarker(link); clean != link || ref != "" {
			t.Errorf("splitMarker(%q) = %q, %q; want the link untouched", link, clean, ref)
		}
	}
}

func TestMarkerMatching(t *testing.T) {
	t.Parallel()
	m, other := newMarker("key-1"), newMarker("key-2")
	text := pinText{title: "Untitled"}
	tests := []struct {
		name string
		pin  pin
		want *pinText
		ok   bool
	}{
		{name: "own link marker", pin: pin{Link: withMarker("https://e.com/", m.ref)}, want: &text, ok: true},
		{name: "another key's link marker", pin: pin{Link: withMarker("https://e.com/", other.ref), DominantColor: m.color}, want: &text},
		{name: "own colour and equal text", pin: pin{Title: "Untitled", DominantColor: m.color}, want: &text, ok: true},
		{name: "own colour in lower case", pin: pin{Title: "Untitled", DominantColor: strings.ToLower(m.color)}, want: &text, ok: true},
		{name: "own colour but other text", pin: pin{Title: "Other", DominantColor: m.color}, want: &text},
		{name: "own colour, any text asked", pin: pin{Title: "Other", DominantColor: m.color}, ok: true},
		{name: "another colour", pin: pin{Title: "Untitled", DominantColor: other.color}, want: &text},
		{name: "no marker", pin: pin{Title: "Untitled"}, want: &text},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := m.matches(tc.pin, tc.want); got != tc.ok {
				t.Fatalf("matches = %v, want %v", got, tc.ok)
			}
		})
	}
}

func TestWriteFormPutsTheMarkerWhereItFits(t *testing.T) {
	t.Parallel()
	m := newMarker("k")
	long := "https://example.com/" + strings.Repeat("a", maxLink-25)
	tests := []struct {
		name            string
		link            string
		wantRef, wantCl bool
	}{
		{name: "link", link: "https://example.com/", wantRef: true},
		{name: "no link", link: "", wantCl: true},
		{name: "link too long for the marker", link: long, wantCl: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := writeForm(textOf(platforms.Content{LinkURL: tc.link}), m)
			if (w.ref != "") != tc.wantRef || (w.color != "") != tc.wantCl || len([]rune(w.link)) > maxLink {
				t.Fatalf("writeForm = %+v", w)
			}
			if clean, _ := splitMarker(w.link); clean != tc.link {
				t.Fatalf("written link %q does not read back as %q", w.link, tc.link)
			}
		})
	}
}
