package bothways

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"gallerysync.dev/libs/platforms"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/allinone/stack"
	"gallerysync.dev/services/sandbox/wixsim"
)

// shownFor is the platform item the link's mapping names for a Wix item,
// as the album shows it; an error until the item is synced and shown.
func (l *linked) shownFor(ctx context.Context, s *stack.Stack, wixID string) (platforms.Observed, error) {
	m, err := l.mappingOf(ctx, s, wixID)
	if err != nil {
		return platforms.Observed{}, err
	}
	if m.GetState() != gsv1.ItemState_ITEM_STATE_SYNCED {
		return platforms.Observed{}, fmt.Errorf("mapping of %s is %s", wixID, m.GetState())
	}
	o, ok, err := l.find(ctx, m.GetExternalId())
	if err == nil && !ok {
		err = fmt.Errorf("%s not in the album", m.GetExternalId())
	}
	return o, err
}

// mappingOf is the link's mapping of a Wix item.
func (l *linked) mappingOf(ctx context.Context, s *stack.Stack, wixID string) (*gsv1.ItemMapping, error) {
	resp, err := s.Mapping().GetItem(ctx, &gsv1.GetItemRequest{
		TenantId: s.Demo().InstanceID, LinkId: l.link, Key: &gsv1.GetItemRequest_WixItemId{WixItemId: wixID},
	})
	return resp.GetItem(), err
}

// find looks for an item in the album.
func (l *linked) find(ctx context.Context, id string) (platforms.Observed, bool, error) {
	list, err := l.list(ctx)
	if err != nil {
		return platforms.Observed{}, false, err
	}
	for _, o := range list {
		if o.ID == id {
			return o, true, nil
		}
	}
	return platforms.Observed{}, false, nil
}

// wixFor is the Wix item the link's mapping names for a platform item.
func (l *linked) wixFor(ctx context.Context, s *stack.Stack, externalID string) (wixsim.Item, error) {
	resp, err := s.Mapping().GetItem(ctx, &gsv1.GetItemRequest{
		TenantId: s.Demo().InstanceID, LinkId: l.link, Key: &gsv1.GetItemRequest_ExternalId{ExternalId: externalID},
	})
	if status.Code(err) == codes.NotFound {
		return wixsim.Item{}, fmt.Errorf("no mapping of %s yet", externalID)
	}
	if err != nil {
		return wixsim.Item{}, err
	}
	return wixItem(s, l.gallery, resp.GetItem().GetWixItemId())
}

// errNoItem: the gallery does not hold the item.
var errNoItem = errors.New("no such item in the gallery")

func wixItem(s *stack.Stack, gallery, id string) (wixsim.Item, error) {
	items, err := galleryItems(s, gallery)
	if err != nil {
		return wixsim.Item{}, err
	}
	for _, it := range items {
		if it.ID == id {
			return it, nil
		}
	}
	return wixsim.Item{}, errNoItem
}

// sameOrder reports whether the album holds exactly ids, in that order,
// with the sort orders given (to the platform's precision).
func sameOrder(list []platforms.Observed, ids []string, sortOrders []float64) bool {
	if len(list) != len(ids) {
		return false
	}
	for i, o := range list {
		if o.ID != ids[i] || !closeTo(o.Content.SortOrder, sortOrders[i]) {
			return false
		}
	}
	return true
}

// wixOrderMatches reports whether the gallery shows the album's items in
// the album's order, each with the sort order the platform holds.
func wixOrderMatches(items []wixsim.Item, list []platforms.Observed, wixIDs map[string]string) bool {
	var want, got []string
	bySort := map[string]float64{}
	for _, o := range list {
		want = append(want, wixIDs[o.ID])
		bySort[wixIDs[o.ID]] = o.Content.SortOrder
	}
	for _, it := range items {
		got = append(got, it.ID)
		if so, ok := bySort[it.ID]; !ok || !closeTo(it.SortOrder, so) {
			return false
		}
	}
	return slices.Equal(got, want)
}

// describeAlbum lists the album's items with their sort orders.
func describeAlbum(list []platforms.Observed) string {
	parts := make([]string, 0, len(list))
	for _, o := range list {
		parts = append(parts, fmt.Sprintf("%s@%.3f", o.ID, o.Content.SortOrder))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// describeGallery lists the gallery's items with their sort orders.
func describeGallery(items []wixsim.Item) string {
	parts := make([]string, 0, len(items))
	for _, it := range items {
		parts = append(parts, fmt.Sprintf("%s@%.3f", it.ID, it.SortOrder))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// closeTo compares sort orders to the thousandth, the precision an AT
// Protocol position keeps.
func closeTo(a, b float64) bool { return math.Abs(a-b) < 0.001 }
