package mastodon

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"strings"
	"unicode"
)

// observedHash is the hash of what a status shows of an item: its text in
// canonical form, each attachment's description in order, and the number
// of attachments. The same function serves the text we post (Expect) and
// the HTML Mastodon renders from it (Remote.Hash, the watcher), because
// both reduce to the same canonical text.
func observedHash(text string, descriptions []string) string {
	h := sha256.New()
	field := func(f string) { fmt.Fprintf(h, "%d:%s;", len(f), f) }
	field(text)
	for _, d := range descriptions {
		field(canonicalText(d))
	}
	fmt.Fprintf(h, "media:%d", len(descriptions))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// canonicalText is plain text with every whitespace run collapsed to one
// space and the ends trimmed: what is left of a status once paragraphs and
// line breaks no longer count.
func canonicalText(s string) string { return strings.Join(strings.Fields(s), " ") }

// canonicalHTML is the canonical text of a status's HTML content: tags
// stripped (paragraphs and line breaks become whitespace, the spans of a
// shortened link and of a hashtag simply vanish, leaving the full URL and
// the #tag), entities unescaped, whitespace collapsed.
func canonicalHTML(content string) string {
	return canonicalText(strings.Join(paragraphs(content), " "))
}

// paragraphs splits status HTML into the text of its paragraphs, with
// <br> as "\n". Mastodon renders a status as <p> blocks (one per blank-line
// separated block of the source) holding escaped text, <br /> line breaks
// and inline links; content without <p> is one paragraph. Whitespace in the
// HTML source is only a space, as in any HTML.
func paragraphs(content string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if t := strings.TrimSpace(cur.String()); t != "" {
			out = append(out, t)
		}
		cur.Reset()
	}
	rest := content
	for rest != "" {
		lt := strings.IndexByte(rest, '<')
		if lt < 0 {
			lt = len(rest)
		}
		cur.WriteString(htmlSpace(html.UnescapeString(rest[:lt])))
		rest = rest[lt:]
		if rest == "" {
			break
		}
		gt := strings.IndexByte(rest, '>')
		if gt < 0 {
			// An unterminated tag: the rest is text, as browsers show it.
			cur.WriteString(htmlSpace(html.UnescapeString(rest)))
			break
		}
		switch tagName(rest[1:gt]) {
		case "p", "/p":
			flush()
		case "br":
			cur.WriteByte('\n')
		}
		rest = rest[gt+1:]
	}
	flush()
	return out
}

// tagName is the lower-case name of a tag's inside ("/p" for a closing one).
func tagName(inside string) string {
	inside = strings.TrimSpace(inside)
	end := strings.IndexAny(inside, " \t\r\n/")
	if strings.HasPrefix(inside, "/") {
		end = strings.IndexAny(inside[1:], " \t\r\n")
		if end >= 0 {
			end++
		}
	}
	if end < 0 {
		end = len(inside)
	}
	return strings.ToLower(inside[:end])
}

// htmlSpace turns the line breaks of HTML source text into spaces: in HTML
// they are whitespace, not line breaks.
func htmlSpace(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ").Replace(s)
}

// parseStatusText is the inverse of statusText: the last paragraph, when it
// holds only hashtags among them the album's, is the tag line; before it a
// paragraph that is one URL is the link; the first paragraph left is the
// title and the rest, blank-line separated, the description. A status
// written by hand parses as well as it can: its text lands in the title
// and description.
func parseStatusText(paras []string, album string) (title, desc, link string) {
	if n := len(paras); n > 0 && isTagLine(paras[n-1], album) {
		paras = paras[:n-1]
	}
	if n := len(paras); n > 0 && isURL(paras[n-1]) {
		link = paras[n-1]
		paras = paras[:n-1]
	}
	if len(paras) > 0 {
		title = paras[0]
		desc = strings.Join(paras[1:], "\n\n")
	}
	return title, desc, link
}

// isTagLine reports whether a paragraph is hashtags only, the album's among them.
func isTagLine(p, album string) bool {
	words := strings.Fields(p)
	found := false
	for _, w := range words {
		if !strings.HasPrefix(w, "#") || len(w) == 1 {
			return false
		}
		found = found || normalizeTag(w) == normalizeTag(album)
	}
	return found
}

// isURL reports whether a paragraph is one http(s) URL.
func isURL(p string) bool {
	if strings.ContainsFunc(p, unicode.IsSpace) {
		return false
	}
	return strings.HasPrefix(p, "https://") || strings.HasPrefix(p, "http://")
}
