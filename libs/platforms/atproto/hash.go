package atproto

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gallerysync.dev/libs/platforms"
)

// text is what the photo record says of an item.
type text struct {
	alt, title, description, link string
}

// textOf is the text the adapter writes for the content: trimmed, since
// leading and trailing blanks show nowhere.
func textOf(c platforms.Content) text {
	return text{
		alt:         strings.TrimSpace(c.AltText),
		title:       strings.TrimSpace(c.Title),
		description: strings.TrimSpace(c.Description),
		link:        strings.TrimSpace(c.LinkURL),
	}
}

// positionScale keeps three decimals of a sort order in the integer
// position.
const positionScale = 1000

// maxPosition keeps positions within the integers JavaScript clients read
// exactly (2^53 - 1), as the AT Protocol data model recommends.
const maxPosition = 1<<53 - 1

// position is the gallery item position for a sort order.
func position(sortOrder float64) int64 {
	if math.IsNaN(sortOrder) {
		return 0
	}
	p := math.Round(sortOrder * positionScale)
	return int64(math.Max(-maxPosition, math.Min(maxPosition, p)))
}

// sortOrder is the sort order a position stands for.
func sortOrder(pos int64) float64 { return float64(pos) / positionScale }

// observedHash is the hash of an item as its records show it: the photo's
// texts, the gallery position and whether it has an image. The same
// function serves the content we write (Expect, Remote.Hash) and the
// records the watcher reads, so our own writes are recognised.
func observedHash(t text, pos int64, hasImage bool) string {
	img := "0"
	if hasImage {
		img = "1"
	}
	return digest("observed", t.alt, t.title, t.description, t.link, formatInt(pos), img)
}

// digest hashes length-prefixed fields, so no two field lists collide.
func digest(fields ...string) string {
	h := sha256.New()
	for _, f := range fields {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }
