package writer_test

import (
	"fmt"
	"testing"
	"time"

	"gallerysync.dev/services/platform-writer/writer"
)

// TestPacingStaysUnderDocumentedLimits sends more creates at once than
// Mastodon's documented media budget allows in a burst (30 uploads per 30
// minutes, a tenth of it at once): the writer makes only what the budget
// allows and leaves the rest waiting, instead of running into 429s.
func TestPacingStaysUnderDocumentedLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *writer.Config) { c.Pace = true })
	h.run()
	for i := range 6 {
		h.publish(h.itemEvent(fmt.Sprintf("e%d", i), created, fmt.Sprintf("item-%d", i), fmt.Sprintf("Photo %d", i), 1))
	}
	h.waitFor("three creates", func() bool { c, _, _, _ := h.masto.writes(); return c == 3 })
	time.Sleep(500 * time.Millisecond) // the others must stay back
	h.wantWrites(3, 0, 0)
}
