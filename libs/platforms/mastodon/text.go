package mastodon

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Mastodon's limits for what the adapter writes.
const (
	// maxStatusChars is stock Mastodon's status length limit.
	maxStatusChars = 500
	// maxAltChars is Mastodon's limit for a media description.
	maxAltChars = 1500
	// urlChars is what Mastodon charges for any linkified URL, however long.
	urlChars = 23
	ellipsis = "…"
)

// statusText lays out one gallery item as a status: title, description, link
// and the album hashtag, separated by blank lines. When that is longer than
// Mastodon allows, the description gives way first (it is the longest and
// least essential part), then the title, then the link; the hashtag stays
// because it is what puts the status into the album.
func statusText(album string, c contentText) string {
	tag := "#" + strings.TrimPrefix(strings.TrimSpace(album), "#")
	build := func(title, desc, link string) string {
		parts := make([]string, 0, 4)
		for _, p := range []string{title, desc, link, tag} {
			if p != "" {
				parts = append(parts, p)
			}
		}
		return strings.Join(parts, "\n\n")
	}
	fits := func(s string) bool { return textLength(s) <= maxStatusChars }
	title, desc, link := c.title, c.desc, c.link
	switch {
	case fits(build(title, desc, link)):
		return build(title, desc, link)
	case fits(build(title, "", link)):
		return build(title, shorten(desc, func(d string) bool { return fits(build(title, d, link)) }), link)
	case fits(build("", "", link)):
		return build(shorten(title, func(t string) bool { return fits(build(t, "", link)) }), "", link)
	default:
		return shorten(build("", "", ""), fits)
	}
}

// contentText is the trimmed text fields of an item.
type contentText struct{ title, desc, link string }

// altText is the media description: the item's alt text, else its title.
func altText(alt, title string) string {
	s := strings.TrimSpace(alt)
	if s == "" {
		s = strings.TrimSpace(title)
	}
	return shorten(s, func(t string) bool { return utf8.RuneCountInString(t) <= maxAltChars })
}

// shorten returns the longest prefix of s (marked with an ellipsis when cut)
// that fits; "" when none does.
func shorten(s string, fits func(string) bool) string {
	if fits(s) {
		return s
	}
	runes := []rune(s)
	cut := func(k int) string {
		if k == 0 {
			return ""
		}
		return strings.TrimRightFunc(string(runes[:k]), unicode.IsSpace) + ellipsis
	}
	// Binary search: a longer prefix never measures shorter, so fits is
	// monotone in k.
	lo, hi := 0, len(runes)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fits(cut(mid)) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return cut(lo)
}

// textLength is an upper bound of the length Mastodon counts: characters,
// with every URL charged at least urlChars (Mastodon charges exactly that for
// the URLs it linkifies; counting max(len, 23) is never less than it counts).
func textLength(s string) int {
	n := 0
	for s != "" {
		start := urlStart(s)
		if start < 0 {
			return n + utf8.RuneCountInString(s)
		}
		n += utf8.RuneCountInString(s[:start])
		end := strings.IndexFunc(s[start:], unicode.IsSpace)
		if end < 0 {
			end = len(s)
		} else {
			end += start
		}
		n += max(utf8.RuneCountInString(s[start:end]), urlChars)
		s = s[end:]
	}
	return n
}

func urlStart(s string) int {
	i, j := strings.Index(s, "http://"), strings.Index(s, "https://")
	switch {
	case i < 0:
		return j
	case j < 0:
		return i
	default:
		return min(i, j)
	}
}
