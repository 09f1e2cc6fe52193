package pinterest

import (
	"context"
	"strings"

	"gallerysync.dev/libs/platforms"
)

// List implements platforms.Lister: every Pin of the board album (newest
// first), each as Watch reports it. Pinterest keeps no per-Pin edit time,
// so UpdatedAt is the time of the listing (or the Pin's creation, if later
// by the clocks' skew): the state reported is the state at that time.
func (a *Adapter) List(ctx context.Context, conn platforms.Connection, album string) ([]platforms.Observed, error) {
	album = strings.TrimSpace(album)
	s, err := a.session(conn)
	if err != nil {
		return nil, err
	}
	pins, err := allBoardPins(ctx, s, album)
	if err != nil {
		return nil, err
	}
	at := a.now()
	out := make([]platforms.Observed, 0, len(pins))
	for _, p := range pins {
		if p.ID != "" {
			out = append(out, p.observed(album, at))
		}
	}
	return out, nil
}
