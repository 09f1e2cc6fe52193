package atproto

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
)

// Kinds of applyWrites operations.
const (
	opCreate = "com.atproto.repo.applyWrites#create"
	opUpdate = "com.atproto.repo.applyWrites#update"
	opDelete = "com.atproto.repo.applyWrites#delete"
)

// maxWritesPerCall is the most writes one applyWrites takes.
const maxWritesPerCall = 200

// write is one operation of an applyWrites call.
type write struct {
	op         string
	collection string
	rkey       string
	value      any
}

// MarshalJSON implements json.Marshaler.
func (w write) MarshalJSON() ([]byte, error) {
	m := map[string]any{"$type": w.op, "collection": w.collection, "rkey": w.rkey}
	if w.op != opDelete {
		m["value"] = w.value
	}
	return json.Marshal(m)
}

// writeResult is one result of applyWrites (createResult, updateResult or
// deleteResult; a delete has neither uri nor cid).
type writeResult struct {
	Type string `json:"$type"`
	URI  string `json:"uri"`
	CID  string `json:"cid"`
}

// applyWrites makes the writes in one commit: all of them or none.
func (s *session) applyWrites(ctx context.Context, writes []write) ([]writeResult, error) {
	var ans struct {
		Results []writeResult `json:"results"`
	}
	err := s.call(ctx, xrpc{
		nsid: "com.atproto.repo.applyWrites",
		body: map[string]any{"repo": s.repo(), "writes": writes},
	}, &ans)
	return ans.Results, err
}

// putRecord writes a record, expecting its current cid to be swap ("" for
// no expectation); a record that is elsewhere fails with InvalidSwap.
func (s *session) putRecord(ctx context.Context, collection, rkey string, value any, swap string) (string, error) {
	body := map[string]any{"repo": s.repo(), "collection": collection, "rkey": rkey, "record": value}
	if swap != "" {
		body["swapRecord"] = swap
	}
	var ans struct {
		CID string `json:"cid"`
	}
	if err := s.call(ctx, xrpc{nsid: "com.atproto.repo.putRecord", body: body}, &ans); err != nil {
		return "", err
	}
	if ans.CID == "" {
		return "", transientf("putRecord %s/%s: answer without cid", collection, rkey)
	}
	return ans.CID, nil
}

// deleteRecord deletes one record; a missing one is not an error (the PDS
// answers 200 for it).
func (s *session) deleteRecord(ctx context.Context, collection, rkey string) error {
	return s.call(ctx, xrpc{
		nsid: "com.atproto.repo.deleteRecord",
		body: map[string]any{"repo": s.repo(), "collection": collection, "rkey": rkey},
	}, nil)
}

// record is a record as getRecord and listRecords return it.
type record struct {
	URI   string          `json:"uri"`
	CID   string          `json:"cid"`
	Value json.RawMessage `json:"value"`
}

// getRecord reads one record of the account; a missing one wraps
// platforms.ErrNotFound. Records are public: reads carry no token (the PDS
// does not check one there, so an expired token would go unnoticed).
func (s *session) getRecord(ctx context.Context, collection, rkey string) (record, error) {
	var rec record
	err := s.a.send(ctx, s.base, xrpc{
		nsid:  "com.atproto.repo.getRecord",
		query: url.Values{"repo": {s.repo()}, "collection": {collection}, "rkey": {rkey}},
	}, &rec)
	return rec, err
}

const (
	// pageLimit is the largest page listRecords serves.
	pageLimit = 100
	// maxPages bounds one listing (100,000 records), so a server that
	// pages in circles cannot keep a caller busy forever.
	maxPages = 1000
)

// listRecords reads every record of a collection of the account (public,
// like getRecord).
func (s *session) listRecords(ctx context.Context, collection string) ([]record, error) {
	var out []record
	cursor := ""
	for range maxPages {
		q := url.Values{"repo": {s.repo()}, "collection": {collection}, "limit": {strconv.Itoa(pageLimit)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Records []record `json:"records"`
			Cursor  string   `json:"cursor"`
		}
		if err := s.a.send(ctx, s.base, xrpc{nsid: "com.atproto.repo.listRecords", query: q}, &page); err != nil {
			return nil, fmt.Errorf("list %s: %w", collection, err)
		}
		out = append(out, page.Records...)
		if len(page.Records) == 0 || page.Cursor == "" || page.Cursor == cursor {
			return out, nil
		}
		cursor = page.Cursor
	}
	return nil, transientf("list %s: more than %d pages", collection, maxPages)
}

// uploadBlob stores image bytes; the PDS answers with the blob reference
// records point to.
func (s *session) uploadBlob(ctx context.Context, data []byte, mimeType string) (blobRef, error) {
	var ans struct {
		Blob blobRef `json:"blob"`
	}
	if err := s.call(ctx, xrpc{nsid: "com.atproto.repo.uploadBlob", raw: data, contentType: mimeType}, &ans); err != nil {
		return blobRef{}, fmt.Errorf("upload blob: %w", err)
	}
	if ans.Blob.CID == "" {
		return blobRef{}, transientf("upload blob: answer without a blob reference")
	}
	return ans.Blob, nil
}

// latestRev is the revision of the account's repository: it changes on
// every commit, so polling it tells cheaply whether anything changed.
func (s *session) latestRev(ctx context.Context) (string, error) {
	var ans struct {
		CID string `json:"cid"`
		Rev string `json:"rev"`
	}
	if err := s.a.send(ctx, s.base, xrpc{
		nsid:  "com.atproto.sync.getLatestCommit",
		query: url.Values{"did": {s.repo()}},
	}, &ans); err != nil {
		return "", fmt.Errorf("latest commit: %w", err)
	}
	return ans.Rev, nil
}

// blobURL is where the PDS serves a blob of the account (getBlob needs no
// authentication).
func (s *session) blobURL(cid string) string {
	return s.base + "/xrpc/com.atproto.sync.getBlob?" + url.Values{"did": {s.repo()}, "cid": {cid}}.Encode()
}

// recordURI is the at-uri of a record of the account.
func (s *session) recordURI(collection, rkey string) string {
	return "at://" + s.repo() + "/" + collection + "/" + rkey
}

// galleryURI is the at-uri of an album (a gallery record key).
func (s *session) galleryURI(album string) string { return s.recordURI(CollectionGallery, album) }
