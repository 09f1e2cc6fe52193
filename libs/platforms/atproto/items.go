package atproto

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"gallerysync.dev/libs/platforms"
)

// write brings an item's records to the content: the photo when its
// content differs from what st says it holds, the gallery item when it is
// missing or its album or position differs.
func (a *Adapter) write(ctx context.Context, s *session, album string, st state, c platforms.Content) (platforms.Remote, error) {
	if st.createdAt == "" {
		st.createdAt = a.timestamp()
	}
	photo, item := st.records(s.galleryURI(album), s.recordURI(CollectionPhoto, st.photoRkey), c)
	photoSame := photo.hash() == st.photoHash
	itemSame := st.itemCID != "" && st.album == album && st.position == item.Position
	if photoSame {
		// The photo need not be written; still, one deleted on the
		// platform is not brought to any content (nor given a gallery
		// item).
		if _, err := s.getRecord(ctx, CollectionPhoto, st.photoRkey); err != nil {
			return platforms.Remote{}, fmt.Errorf("update %s: %w", st.photoRkey, err)
		}
	}
	if itemSame {
		// The gallery item may have been removed on the platform (the
		// photo taken out of the gallery): read it, and write it again if
		// it is not as held.
		rec, err := s.getRecord(ctx, CollectionGalleryItem, st.itemRkey)
		switch {
		case errors.Is(err, platforms.ErrNotFound):
			itemSame, st.itemCID = false, ""
		case err != nil:
			return platforms.Remote{}, fmt.Errorf("read gallery item %s: %w", st.itemRkey, err)
		case rec.CID != st.itemCID:
			itemSame, st.itemCID = false, rec.CID
		}
	}
	if !photoSame {
		h := photo.hash()
		cid, err := a.put(ctx, s, CollectionPhoto, st.photoRkey, photo, st.photoCID, true)
		if err != nil {
			return platforms.Remote{}, fmt.Errorf("update photo %s: %w", st.photoRkey, err)
		}
		st.photoCID, st.photoHash = cid, h
	}
	if !itemSame {
		cid, err := a.put(ctx, s, CollectionGalleryItem, st.itemRkey, item, st.itemCID, false)
		if err != nil {
			return platforms.Remote{}, fmt.Errorf("update gallery item %s: %w", st.itemRkey, err)
		}
		st.itemCID, st.album, st.position = cid, album, item.Position
	}
	return a.remote(album, c, st), nil
}

// put writes a record with swapRecord = the cid held. When the record was
// changed meanwhile (InvalidSwap), it is read again and the write repeated
// once against its new cid: the writer brings the item to the source's
// state, whatever was made of it on the platform. A record that must exist
// and is gone is platforms.ErrNotFound.
func (a *Adapter) put(ctx context.Context, s *session, collection, rkey string, value any, swap string, mustExist bool) (string, error) {
	cid, err := s.putRecord(ctx, collection, rkey, value, swap)
	if !isAPIError(err, "InvalidSwap") {
		return cid, err
	}
	rec, gerr := s.getRecord(ctx, collection, rkey)
	switch {
	case errors.Is(gerr, platforms.ErrNotFound) && mustExist:
		return "", fmt.Errorf("%w: %s/%s was deleted", platforms.ErrNotFound, collection, rkey)
	case errors.Is(gerr, platforms.ErrNotFound):
		swap = ""
	case gerr != nil:
		return "", gerr
	default:
		swap = rec.CID
	}
	return s.putRecord(ctx, collection, rkey, value, swap)
}

// current reads an item's records: the photo, and the gallery item naming
// it (by itemRkey, the photo's own key, else by a search of the account's
// gallery items, preferring one in album). found is false when the photo is
// gone; a photo in no gallery has no itemCID, and itemRkey is where its
// gallery item is to be written.
func (a *Adapter) current(ctx context.Context, s *session, album, photoRkey, itemRkey string) (state, bool, error) {
	rec, err := s.getRecord(ctx, CollectionPhoto, photoRkey)
	if errors.Is(err, platforms.ErrNotFound) {
		return state{}, false, nil
	}
	if err != nil {
		return state{}, false, fmt.Errorf("read photo %s: %w", photoRkey, err)
	}
	var p photoRecord
	if err := json.Unmarshal(rec.Value, &p); err != nil {
		return state{}, false, permanentf("photo %s is not a %s record: %v", photoRkey, CollectionPhoto, err)
	}
	st := state{
		photoRkey: photoRkey, photoCID: rec.CID, blob: p.Photo, aspect: p.AspectRatio,
		createdAt: p.CreatedAt, photoHash: p.hash(), shown: p.text(),
	}
	if checkRkey(itemRkey) != nil {
		itemRkey = photoRkey
	}
	st.itemRkey = itemRkey
	photoURI := s.recordURI(CollectionPhoto, photoRkey)
	for _, rk := range uniq(itemRkey, photoRkey) {
		rec, err := s.getRecord(ctx, CollectionGalleryItem, rk)
		if errors.Is(err, platforms.ErrNotFound) {
			continue
		}
		if err != nil {
			return state{}, false, fmt.Errorf("read gallery item %s: %w", rk, err)
		}
		if st.takeItem(s, rk, rec, photoURI) {
			return st, true, nil
		}
	}
	recs, err := s.listRecords(ctx, CollectionGalleryItem)
	if err != nil {
		return state{}, false, err
	}
	galleryURI := s.galleryURI(album)
	var fallback *record
	for i := range recs {
		var it itemRecord
		if json.Unmarshal(recs[i].Value, &it) != nil || it.Item != photoURI {
			continue
		}
		if it.Gallery == galleryURI {
			fallback = &recs[i]
			break
		}
		if fallback == nil {
			fallback = &recs[i]
		}
	}
	if fallback != nil {
		u, _ := parseATURI(fallback.URI)
		st.takeItem(s, u.rkey, *fallback, photoURI)
	}
	return st, true, nil
}

// takeItem records a gallery item record in st when it names the photo.
func (st *state) takeItem(s *session, rkey string, rec record, photoURI string) bool {
	var it itemRecord
	if json.Unmarshal(rec.Value, &it) != nil || it.Item != photoURI {
		return false
	}
	st.itemRkey, st.itemCID, st.position = rkey, rec.CID, it.Position
	if u, err := parseATURI(it.Gallery); err == nil && u.collection == CollectionGallery {
		st.album = u.rkey
	}
	return true
}

// resolve returns the item an earlier Create under the key made, or a
// Remote naming the keys it would have used (see Create).
func (a *Adapter) resolve(ctx context.Context, s *session, album, rkey string) (platforms.Remote, error) {
	cur, found, err := a.current(ctx, s, album, rkey, rkey)
	if err != nil {
		return platforms.Remote{}, fmt.Errorf("resolve %s: %w", rkey, err)
	}
	if !found {
		return platforms.Remote{ID: rkey, Attrs: map[string]string{AttrItemRkey: rkey}}, nil
	}
	r := platforms.Remote{ID: rkey, Attrs: cur.attrs()}
	if cur.itemCID != "" {
		r.Hash = observedHash(cur.shown, cur.position, true)
	}
	return r, nil
}

// remote describes the records just written for the content; its Hash is
// what the watcher will compute from them.
func (a *Adapter) remote(album string, c platforms.Content, st state) platforms.Remote {
	attrs := st.attrs()
	attrs[AttrFingerprint] = a.Fingerprint(album, c)
	return platforms.Remote{ID: st.photoRkey, Hash: observedHash(textOf(c), st.position, true), Attrs: attrs}
}

func uniq(a, b string) []string {
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}
