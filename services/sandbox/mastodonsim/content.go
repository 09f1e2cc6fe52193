package mastodonsim

import (
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Status text rules, after Mastodon's TextFormatter and
// StatusLengthValidator: URLs become shortened links, hashtags become tag
// links, everything else is HTML-escaped; blank-line separated blocks become
// paragraphs and single newlines <br />.
const (
	maxStatusChars = 500
	urlWeight      = 23 // every URL counts as this many characters
	displayURLLen  = 30
)

var (
	urlPattern       = regexp.MustCompile(`https?://[^\s<>"]+`)
	hashtagPattern   = regexp.MustCompile(`(^|[^\p{L}\p{N}_/=)])#([\p{L}\p{M}\p{N}_]*[\p{L}\p{M}][\p{L}\p{M}\p{N}_]*)`)
	urlPrefixPattern = regexp.MustCompile(`^(https?://(www\.)?|xmpp:)`)
	paragraphBreak   = regexp.MustCompile(`\n\n+`)
)

// entity is a URL or hashtag found in status text; [start,end) are byte
// offsets into the text.
type entity struct {
	start, end int
	url        string
	tag        string
}

// extractEntities finds URLs first, then hashtags outside them.
func extractEntities(text string) []entity {
	var out []entity
	for _, m := range urlPattern.FindAllStringIndex(text, -1) {
		u := trimURL(text[m[0]:m[1]])
		out = append(out, entity{start: m[0], end: m[0] + len(u), url: u})
	}
	var tags []entity
	for _, m := range hashtagPattern.FindAllStringSubmatchIndex(text, -1) {
		hashAt := m[4] - 1 // the '#' precedes the name group
		if insideAny(out, hashAt) {
			continue
		}
		tags = append(tags, entity{start: hashAt, end: m[5], tag: text[m[4]:m[5]]})
	}
	out = append(out, tags...)
	sortEntities(out)
	return out
}

// trimURL drops trailing punctuation that ends a sentence rather than the
// URL, and a closing parenthesis that has no opening one inside the URL.
func trimURL(u string) string {
	for u != "" {
		last := u[len(u)-1]
		switch {
		case strings.ContainsRune(".,;:!?'*", rune(last)):
			u = u[:len(u)-1]
		case last == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
			u = u[:len(u)-1]
		default:
			return u
		}
	}
	return u
}

func insideAny(es []entity, pos int) bool {
	for _, e := range es {
		if pos >= e.start && pos < e.end {
			return true
		}
	}
	return false
}

func sortEntities(es []entity) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].start < es[j-1].start; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

// renderContent returns the HTML content of a status and its hashtags.
func renderContent(text, base string) (string, []Tag) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	if strings.TrimSpace(text) == "" {
		return "", []Tag{}
	}
	var b strings.Builder
	tags := []Tag{}
	seen := map[string]bool{}
	pos := 0
	for _, e := range extractEntities(text) {
		b.WriteString(escapeHTML(text[pos:e.start]))
		pos = e.end
		if e.url != "" {
			b.WriteString(linkHTML(e.url))
			continue
		}
		b.WriteString(hashtagHTML(e.tag, base))
		name := strings.ToLower(e.tag)
		if !seen[name] {
			seen[name] = true
			tags = append(tags, Tag{Name: name, URL: tagURL(base, name)})
		}
	}
	b.WriteString(escapeHTML(text[pos:]))
	return simpleFormat(b.String()), tags
}

// simpleFormat wraps blocks in paragraphs as Rails' simple_format does and
// then drops the remaining newlines, as Mastodon does.
func simpleFormat(s string) string {
	var b strings.Builder
	for _, para := range paragraphBreak.Split(s, -1) {
		lines := strings.Split(para, "\n")
		var kept []string
		for _, l := range lines {
			if l != "" {
				kept = append(kept, l)
			}
		}
		b.WriteString("<p>")
		b.WriteString(strings.Join(kept, "<br />"))
		b.WriteString("</p>")
	}
	return b.String()
}

func linkHTML(u string) string {
	prefix := urlPrefixPattern.FindString(u)
	rest := []rune(u[len(prefix):])
	display, suffix := rest, []rune(nil)
	class := ""
	if len(rest) > displayURLLen {
		display, suffix = rest[:displayURLLen], rest[displayURLLen:]
		class = "ellipsis"
	}
	return `<a href="` + escapeHTML(u) + `" target="_blank" rel="nofollow noopener noreferrer" translate="no">` +
		`<span class="invisible">` + escapeHTML(prefix) + `</span>` +
		`<span class="` + class + `">` + escapeHTML(string(display)) + `</span>` +
		`<span class="invisible">` + escapeHTML(string(suffix)) + `</span></a>`
}

func hashtagHTML(tag, base string) string {
	return `<a href="` + escapeHTML(tagURL(base, tag)) + `" class="mention hashtag" rel="tag">#<span>` +
		escapeHTML(tag) + `</span></a>`
}

func tagURL(base, tag string) string { return base + "/tags/" + url.PathEscape(tag) }

// escapeHTML escapes like Rails' html_escape (&quot; and &#39; for quotes).
func escapeHTML(s string) string {
	return htmlEscaper.Replace(s)
}

var htmlEscaper = strings.NewReplacer(
	"&", "&amp;",
	"<", "&lt;",
	">", "&gt;",
	`"`, "&quot;",
	"'", "&#39;",
)

// normalizeTag folds a tag the way lookups compare them: without a leading
// '#', lower-case.
func normalizeTag(s string) string {
	return strings.ToLower(strings.TrimLeft(strings.TrimSpace(s), "#"))
}

// countableLength is the length the 500-character limit applies to: the
// spoiler plus the text, with each URL counted as 23 characters.
func countableLength(text, spoiler string) int {
	n := utf8.RuneCountInString(spoiler)
	pos := 0
	for _, e := range extractEntities(text) {
		if e.url == "" {
			continue
		}
		n += utf8.RuneCountInString(text[pos:e.start]) + urlWeight
		pos = e.end
	}
	return n + utf8.RuneCountInString(text[pos:])
}
