package atproto

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// tidAlphabet is the base32 "sortable" alphabet of TIDs.
const tidAlphabet = "234567abcdefghijklmnopqrstuvwxyz"

// A TID is 64 bits: a zero bit, 53 bits of microseconds since the Unix
// epoch and a 10-bit clock id, written as 13 characters of tidAlphabet.
// Derived keys take their time from the hash, within tidSpan after
// tidEpoch, so they read as plausible times.
const (
	tidEpoch int64 = 1_672_531_200_000_000 // 2023-01-01T00:00:00Z in microseconds
	tidSpan  int64 = 1 << 48               // about 8.9 years of microseconds
)

// tidFromKey is a valid TID derived from the parts: the same parts always
// give the same TID, so a retried create addresses the records the first
// attempt made.
func tidFromKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	sum := h.Sum(nil)
	v := binary.BigEndian.Uint64(sum[:8])
	micros := tidEpoch + int64(v>>10)%tidSpan
	return encodeTID(uint64(micros)<<10 | v&0x3ff)
}

func encodeTID(n uint64) string {
	n &^= 1 << 63
	var b [13]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = tidAlphabet[n&31]
		n >>= 5
	}
	return string(b[:])
}

// checkRkey checks record-key syntax: 1 to 512 characters of A-Z a-z 0-9
// . - _ : ~, and neither "." nor "..". Keys go into request bodies and
// queries, never paths, but a bad one would only earn a 400 later.
func checkRkey(k string) error {
	if k == "" || len(k) > 512 || k == "." || k == ".." {
		return permanentf("invalid record key %q", k)
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '-', c == '_', c == ':', c == '~':
		default:
			return permanentf("invalid record key %q", k)
		}
	}
	return nil
}
