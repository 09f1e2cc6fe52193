package mastodon

import (
	"slices"
	"strings"
	"testing"
)

func TestParagraphs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
		want    []string
	}{
		{"documented example", `<p>&quot;I lost my inheritance with one wrong digit on my sort code&quot;</p><p><a href="https://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code" rel="nofollow noopener noreferrer" target="_blank"><span class="invisible">https://www.</span><span class="ellipsis">theguardian.com/money/2019/dec</span><span class="invisible">/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code</span></a></p>`,
			[]string{`"I lost my inheritance with one wrong digit on my sort code"`,
				"https://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code"}},
		{"line breaks and hashtag", `<p>Title</p><p>one<br />two<br>three</p><p><a href="https://x/tags/trip" class="mention hashtag" rel="tag">#<span>trip</span></a></p>`,
			[]string{"Title", "one\ntwo\nthree", "#trip"}},
		{"no paragraphs", `plain &amp; simple`, []string{"plain & simple"}},
		{"source line breaks are spaces", "<p>a\nb</p>", []string{"a b"}},
		{"empty paragraphs dropped", "<p></p><p> x </p>", []string{"x"}},
		{"unterminated tag", "<p>a</p><b", []string{"a", "<b"}},
		{"empty", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := paragraphs(tc.content); !slices.Equal(got, tc.want) {
				t.Fatalf("paragraphs = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseStatusTextInvertsStatusText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		album string
		c     contentText
	}{
		{"all parts", "trip", contentText{"Title", "Desc\nwith a break", "https://x.example/1"}},
		{"title only", "trip", contentText{title: "Title"}},
		{"link only", "trip", contentText{link: "https://x.example/1"}},
		{"paragraphs in the description", "trip", contentText{"T", "one\n\ntwo", ""}},
		{"hashtags in the title", "trip", contentText{"Beach #summer", "D", ""}},
		{"nothing", "trip", contentText{}},
		{"album in another case", "Trip", contentText{"T", "D", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Mastodon keeps the text's paragraphs and line breaks, so the
			// source split the same way stands for its rendering.
			paras := splitParagraphs(statusText(tc.album, tc.c))
			title, desc, link := parseStatusText(paras, tc.album)
			if title != tc.c.title || desc != tc.c.desc || link != tc.c.link {
				t.Fatalf("parsed (%q, %q, %q), want (%q, %q, %q)", title, desc, link, tc.c.title, tc.c.desc, tc.c.link)
			}
		})
	}
}

func TestParseStatusTextByHand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		paras             []string
		title, desc, link string
	}{
		{"tag inline stays text", []string{"Sunset #trip"}, "Sunset #trip", "", ""},
		{"tag line of other tags is text", []string{"Sunset", "#other #more"}, "Sunset", "#other #more", ""},
		{"tag line with more tags", []string{"Sunset", "#more #trip"}, "Sunset", "", ""},
		{"url inside text is not the link", []string{"Sunset", "see https://x.example"}, "Sunset", "see https://x.example", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			title, desc, link := parseStatusText(tc.paras, "trip")
			if title != tc.title || desc != tc.desc || link != tc.link {
				t.Fatalf("parsed (%q, %q, %q), want (%q, %q, %q)", title, desc, link, tc.title, tc.desc, tc.link)
			}
		})
	}
}

func TestCanonicalHTMLEqualsCanonicalSource(t *testing.T) {
	t.Parallel()
	source := "\"Quoted\" & <tagged>\n\nline one\nline two\n\nhttps://www.example.com/a/long/path/beyond/thirty/characters\n\n#trip"
	content := `<p>&quot;Quoted&quot; &amp; &lt;tagged&gt;</p><p>line one<br />line two</p>` +
		`<p><a href="https://www.example.com/a/long/path/beyond/thirty/characters"><span class="invisible">https://www.</span>` +
		`<span class="ellipsis">example.com/a/long/path/beyond</span><span class="invisible">/thirty/characters</span></a></p>` +
		`<p><a href="https://h/tags/trip" class="mention hashtag" rel="tag">#<span>trip</span></a></p>`
	if got, want := canonicalHTML(content), canonicalText(source); got != want {
		t.Fatalf("canonicalHTML = %q, canonical source = %q", got, want)
	}
}

// splitParagraphs splits source text at blank lines, as Mastodon does.
func splitParagraphs(s string) []string {
	return paragraphs("<p>" + htmlBreaks(s) + "</p>")
}

// htmlBreaks writes source text as Mastodon's paragraphs and breaks, so
// the test needs no renderer of its own.
func htmlBreaks(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\n' && i+1 < len(s) && s[i+1] == '\n':
			b.WriteString("</p><p>")
			i++
		case s[i] == '\n':
			b.WriteString("<br />")
		case s[i] == '&':
			b.WriteString("&amp;")
		case s[i] == '<':
			b.WriteString("&lt;")
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
