package pinterest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Pinterest has no idempotency key, so every Pin the adapter creates carries
// a marker derived from the create's key, and Create first looks for a Pin
// with that marker among the board's newest Pins:
//
//   - A Pin with a link carries the marker as the link's last query
//     parameter (gs_ref=<16 hex digits>), which destination sites ignore.
//     The adapter strips it whenever it reads a link back.
//   - A Pin without a link (or whose link would grow past 2048 characters)
//     carries it as its dominant_color, the placeholder colour shown while
//     the image loads. Only 24 bits fit there, so such a Pin matches only if
//     its text also equals the content being created. Pinterest does not
//     document whether it keeps a colour it is given; where it does not,
//     a retried create of a link-less item can make a second Pin.

// markerParam is the query parameter that carries a marker in a link.
const markerParam = "gs_ref"

// refLen is the length of a marker's reference in hex digits.
const refLen = 16

// marker is what Create writes into a Pin to find it again.
type marker struct {
	ref   string // 16 hex digits, in the link
	color string // "#RRGGBB", as dominant_color
}

func newMarker(idempotencyKey string) marker {
	sum := sha256.Sum256([]byte("gallerysync/pinterest/create:" + idempotencyKey))
	return marker{
		ref:   hex.EncodeToString(sum[:refLen/2]),
		color: fmt.Sprintf("#%02X%02X%02X", sum[8], sum[9], sum[10]),
	}
}

// withMarker appends the marker to a link as its last query parameter,
// before any fragment. An empty link stays empty.
func withMarker(link, ref string) string {
	if link == "" || ref == "" {
		return link
	}
	base, frag, hasFrag := strings.Cut(link, "#")
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	out := base + sep + markerParam + "=" + ref
	if hasFrag {
		out += "#" + frag
	}
	return out
}

// splitMarker undoes withMarker: it returns the link without a trailing
// marker parameter, and the marker's reference ("" when there is none).
func splitMarker(link string) (clean, ref string) {
	base, frag, hasFrag := strings.Cut(link, "#")
	const tail = markerParam + "="
	i := len(base) - len(tail) - refLen - 1
	if i < 0 || (base[i] != '?' && base[i] != '&') || base[i+1:i+1+len(tail)] != tail {
		return link, ""
	}
	ref = base[i+1+len(tail):]
	if !isHex(ref) {
		return link, ""
	}
	clean = base[:i]
	if hasFrag {
		clean += "#" + frag
	}
	return clean, ref
}

func isHex(s string) bool {
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return s != ""
}

// written is what Create and Update send for content: the text, the link
// with the marker when it fits, and the colour marker otherwise.
type written struct {
	text pinText
	// link is the link as sent (with the marker).
	link string
	// ref is the marker in the link ("" when the link carries none).
	ref string
	// color is the dominant_color to send on create ("" when the link
	// carries the marker).
	color string
}

// writeForm returns what to send for text under marker m. An update passes
// a marker holding only the Pin's link reference, to keep it in the link.
func writeForm(t pinText, m marker) written {
	w := written{text: t}
	if t.link != "" && m.ref != "" {
		if l := withMarker(t.link, m.ref); len([]rune(l)) <= maxLink {
			w.link, w.ref = l, m.ref
			return w
		}
	}
	w.link = t.link
	w.color = m.color
	return w
}

// matches reports whether p is the Pin a create under m made. want is the
// text being created, or nil when any text will do (the caller only needs
// to know whether the Pin exists).
func (m marker) matches(p pin, want *pinText) bool {
	if _, ref := splitMarker(p.Link); ref != "" {
		return ref == m.ref
	}
	if !strings.EqualFold(p.DominantColor, m.color) {
		return false
	}
	return want == nil || p.text() == *want
}
