package mastodon

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStatusText(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("word ", 200)
	tests := []struct {
		name  string
		album string
		c     contentText
		want  string
		check func(t *testing.T, s string)
	}{
		{name: "all parts", album: "trip", c: contentText{"Title", "Desc", "https://x.example/1"},
			want: "Title\n\nDesc\n\nhttps://x.example/1\n\n#trip"},
		{name: "title only", album: "#trip", c: contentText{title: "Title"}, want: "Title\n\n#trip"},
		{name: "nothing but the tag", album: "trip", want: "#trip"},
		{name: "long description is cut", album: "trip", c: contentText{"Title", long, "https://x.example/1"},
			check: func(t *testing.T, s string) {
				if !strings.HasPrefix(s, "Title\n\nword word") || !strings.HasSuffix(s, "…\n\nhttps://x.example/1\n\n#trip") {
					t.Fatalf("layout lost: %q", s)
				}
				if n := textLength(s); n > maxStatusChars || n < maxStatusChars-5 {
					t.Fatalf("length %d, want just under %d", n, maxStatusChars)
				}
			}},
		{name: "long title is cut after the description", album: "trip", c: contentText{long, "Desc", ""},
			check: func(t *testing.T, s string) {
				if strings.Contains(s, "Desc") || !strings.HasSuffix(s, "…\n\n#trip") || textLength(s) > maxStatusChars {
					t.Fatalf("got %q (length %d)", s, textLength(s))
				}
			}},
		{name: "urls in the description count as 23 at least", album: "trip",
			c: contentText{"T", strings.Repeat("http://a.b ", 60), ""},
			check: func(t *testing.T, s string) {
				if textLength(s) > maxStatusChars || strings.Count(s, "http://a.b") > 20 {
					t.Fatalf("got %d urls, length %d", strings.Count(s, "http://a.b"), textLength(s))
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := statusText(tc.album, tc.c)
			if tc.check != nil {
				tc.check(t, got)
				return
			}
			if got != tc.want {
				t.Fatalf("statusText = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAltText(t *testing.T) {
	t.Parallel()
	if got := altText("", "  Title "); got != "Title" {
		t.Fatalf("alt falls back to the title: got %q", got)
	}
	if got := altText("Alt", "Title"); got != "Alt" {
		t.Fatalf("alt text wins over the title: got %q", got)
	}
	got := altText(strings.Repeat("é", 2000), "")
	if n := utf8.RuneCountInString(got); n != maxAltChars || !strings.HasSuffix(got, "…") {
		t.Fatalf("long alt text has %d characters, want %d ending in an ellipsis", n, maxAltChars)
	}
}

func TestTextLength(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"héllo", 5},
		{"see http://a.b now", 4 + 23 + 4},
		{"https://" + strings.Repeat("x", 40), 48},
	}
	for _, tc := range tests {
		if got := textLength(tc.in); got != tc.want {
			t.Errorf("textLength(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
