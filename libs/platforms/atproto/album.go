package atproto

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"gallerysync.dev/libs/platforms"
)

// maxGalleryTitle is the lexicon's limit of a gallery title, in bytes.
const maxGalleryTitle = 100

// EnsureAlbum implements platforms.AlbumMaker: the record key of the
// account's gallery titled name, made when there is none. The new gallery's
// key is derived from the name, so two concurrent calls make one gallery.
// A name longer than a gallery title may be is cut (at a character
// boundary) to fit.
func (a *Adapter) EnsureAlbum(ctx context.Context, conn platforms.Connection, name string) (string, error) {
	title := galleryTitle(name)
	if title == "" {
		return "", permanentf("album name is empty")
	}
	s, err := a.session(ctx, conn)
	if err != nil {
		return "", err
	}
	recs, err := s.listRecords(ctx, CollectionGallery)
	if err != nil {
		return "", fmt.Errorf("ensure album %q: %w", title, err)
	}
	for _, rec := range recs {
		var g galleryRecord
		if json.Unmarshal(rec.Value, &g) != nil || g.Title != title {
			continue
		}
		if u, err := parseATURI(rec.URI); err == nil {
			return u.rkey, nil
		}
	}
	rkey := tidFromKey("gallery", title)
	now := a.timestamp()
	_, err = s.applyWrites(ctx, []write{{op: opCreate, collection: CollectionGallery, rkey: rkey,
		value: galleryRecord{Type: CollectionGallery, Title: title, CreatedAt: now, UpdatedAt: now}}})
	if err == nil {
		return rkey, nil
	}
	// A concurrent call may have made it (the PDS refuses a second create).
	if _, gerr := s.getRecord(ctx, CollectionGallery, rkey); gerr == nil {
		return rkey, nil
	} else if !errors.Is(gerr, platforms.ErrNotFound) {
		return "", fmt.Errorf("ensure album %q: %w", title, gerr)
	}
	return "", fmt.Errorf("ensure album %q: %w", title, err)
}

// galleryTitle is the name trimmed and cut to the lexicon's limit.
func galleryTitle(name string) string {
	t := strings.TrimSpace(name)
	for len(t) > maxGalleryTitle {
		_, size := utf8.DecodeLastRuneInString(t)
		t = t[:len(t)-size]
	}
	return strings.TrimSpace(t)
}
