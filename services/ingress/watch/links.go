package watch

import (
	"context"
	"fmt"
	"slices"
	"strings"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

const (
	// scanPageSize is the largest page ScanLinks serves.
	scanPageSize = 1000
	// maxScanPages bounds one scan (a million links), so a service that
	// pages in circles cannot keep the scan busy forever.
	maxScanPages = 1000
)

// connKey names one tenant's connection.
type connKey struct {
	tenant     string
	connection string
}

func (k connKey) String() string { return k.tenant + "/" + k.connection }

// leaseKey is the lease (and cursor) key of a connection's watch.
func (k connKey) leaseKey() string { return "watch:" + k.connection }

// scanLinks pages through every tenant's links.
func scanLinks(ctx context.Context, mapping gsv1.MappingServiceClient) ([]*gsv1.Link, error) {
	var out []*gsv1.Link
	token := ""
	for range maxScanPages {
		resp, err := mapping.ScanLinks(ctx, &gsv1.ScanLinksRequest{PageSize: scanPageSize, PageToken: token})
		if err != nil {
			return nil, fmt.Errorf("scan links: %w", err)
		}
		out = append(out, resp.GetLinks()...)
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
	return nil, fmt.Errorf("scan links: more than %d pages", maxScanPages)
}

// watchedLinks groups the links that carry platform changes to Wix (active
// and two-way) by connection, each group in link id order.
func watchedLinks(links []*gsv1.Link) map[connKey][]*gsv1.Link {
	out := map[connKey][]*gsv1.Link{}
	for _, l := range links {
		if l.GetState() != gsv1.LinkState_LINK_STATE_ACTIVE || l.GetDirection() != gsv1.Direction_DIRECTION_TWO_WAY ||
			l.GetTenantId() == "" || l.GetConnectionId() == "" || l.GetAlbumId() == "" {
			continue
		}
		k := connKey{tenant: l.GetTenantId(), connection: l.GetConnectionId()}
		out[k] = append(out[k], l)
	}
	for _, ls := range out {
		slices.SortFunc(ls, func(a, b *gsv1.Link) int { return strings.Compare(a.GetLinkId(), b.GetLinkId()) })
	}
	return out
}

// albumsOf lists the distinct albums of links, sorted.
func albumsOf(links []*gsv1.Link) []string {
	var out []string
	for _, l := range links {
		out = append(out, l.GetAlbumId())
	}
	slices.Sort(out)
	return slices.Compact(out)
}
