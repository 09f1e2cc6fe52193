package atprotosim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Write costs in points, as a PDS charges them.
const (
	createPoints = 3
	updatePoints = 2
	deletePoints = 1
)

// maxWrites is the most writes one applyWrites takes.
const maxWrites = 200

// Kinds of applyWrites operations.
const (
	opCreate = "com.atproto.repo.applyWrites#create"
	opUpdate = "com.atproto.repo.applyWrites#update"
	opDelete = "com.atproto.repo.applyWrites#delete"
)

// writeAnswer is the answer of createRecord and putRecord.
type writeAnswer struct {
	URI              string    `json:"uri"`
	CID              string    `json:"cid"`
	Commit           commitRef `json:"commit"`
	ValidationStatus string    `json:"validationStatus"`
}

// writeOp is one write, as applyWrites and the single-record methods take it.
type writeOp struct {
	Type       string          `json:"$type"`
	Collection string          `json:"collection"`
	Rkey       string          `json:"rkey"`
	Value      json.RawMessage `json:"value"`
	// swap is the swapRecord of putRecord and deleteRecord (nil: none).
	swap *string
}

// writeResult is one result of applyWrites.
type writeResult struct {
	Type             string `json:"$type"`
	URI              string `json:"uri,omitempty"`
	CID              string `json:"cid,omitempty"`
	ValidationStatus string `json:"validationStatus,omitempty"`
}

func (s *Server) createRecord(c *call) (any, *xrpcError) {
	var in struct {
		Repo       string          `json:"repo"`
		Collection string          `json:"collection"`
		Rkey       string          `json:"rkey"`
		Record     json.RawMessage `json:"record"`
	}
	if err := jsonUnmarshal(c.body, &in); err != nil {
		return nil, badRequest("InvalidRequest", "Input must be a JSON object")
	}
	res, commit, xe := s.write(c, in.Repo, []writeOp{{Type: opCreate, Collection: in.Collection, Rkey: in.Rkey, Value: in.Record}})
	if xe != nil {
		return nil, xe
	}
	return writeAnswer{URI: res[0].URI, CID: res[0].CID, Commit: commit, ValidationStatus: res[0].ValidationStatus}, nil
}

func (s *Server) putRecord(c *call) (any, *xrpcError) {
	var in struct {
		Repo       string          `json:"repo"`
		Collection string          `json:"collection"`
		Rkey       string          `json:"rkey"`
		Record     json.RawMessage `json:"record"`
		SwapRecord *string         `json:"swapRecord"`
	}
	if err := jsonUnmarshal(c.body, &in); err != nil {
		return nil, badRequest("InvalidRequest", "Input must be a JSON object")
	}
	if in.Rkey == "" {
		return nil, badRequest("InvalidRequest", `Input must have the property "rkey"`)
	}
	res, commit, xe := s.write(c, in.Repo, []writeOp{{Type: "put", Collection: in.Collection, Rkey: in.Rkey, Value: in.Record, swap: in.SwapRecord}})
	if xe != nil {
		return nil, xe
	}
	return writeAnswer{URI: res[0].URI, CID: res[0].CID, Commit: commit, ValidationStatus: res[0].ValidationStatus}, nil
}

func (s *Server) deleteRecord(c *call) (any, *xrpcError) {
	var in struct {
		Repo       string  `json:"repo"`
		Collection string  `json:"collection"`
		Rkey       string  `json:"rkey"`
		SwapRecord *string `json:"swapRecord"`
	}
	if err := jsonUnmarshal(c.body, &in); err != nil {
		return nil, badRequest("InvalidRequest", "Input must be a JSON object")
	}
	a, xe := s.ownRepo(c, in.Repo)
	if xe != nil {
		return nil, xe
	}
	s.mu.Lock()
	_, exists := a.repo.get(in.Collection, in.Rkey)
	s.mu.Unlock()
	if !exists && in.SwapRecord == nil {
		// The PDS answers a delete of a missing record with an empty object.
		return struct{}{}, nil
	}
	_, commit, xe := s.write(c, in.Repo, []writeOp{{Type: "delete", Collection: in.Collection, Rkey: in.Rkey, swap: in.SwapRecord}})
	if xe != nil {
		return nil, xe
	}
	return map[string]commitRef{"commit": commit}, nil
}

func (s *Server) applyWrites(c *call) (any, *xrpcError) {
	var in struct {
		Repo   string    `json:"repo"`
		Writes []writeOp `json:"writes"`
	}
	if err := jsonUnmarshal(c.body, &in); err != nil {
		return nil, badRequest("InvalidRequest", "Input must be a JSON object")
	}
	if len(in.Writes) > maxWrites {
		return nil, badRequest("InvalidRequest", "Too many writes. Max: "+strconv.Itoa(maxWrites))
	}
	for _, w := range in.Writes {
		if w.Type != opCreate && w.Type != opUpdate && w.Type != opDelete {
			return nil, badRequest("InvalidRequest", "Invalid $type: "+w.Type)
		}
	}
	res, commit, xe := s.write(c, in.Repo, in.Writes)
	if xe != nil {
		return nil, xe
	}
	return map[string]any{"commit": commit, "results": res}, nil
}

// ownRepo is the caller's account when repo names it (DID or handle).
func (s *Server) ownRepo(c *call, repo string) (*account, *xrpcError) {
	if repo == "" {
		return nil, badRequest("InvalidRequest", `Input must have the property "repo"`)
	}
	if repo != c.acct.did && !strings.EqualFold(repo, c.acct.handle) {
		return nil, &xrpcError{status: http.StatusUnauthorized, name: "AuthenticationRequired", message: "Authentication Required"}
	}
	return c.acct, nil
}

// write applies writes to the caller's repository in one commit, or none
// of them: bad input is a 400, a stale swapRecord a 400 InvalidSwap, and a
// create of an existing record (or an applyWrites update or delete of a
// missing one) the PDS's bare 500.
func (s *Server) write(c *call, repoName string, writes []writeOp) ([]writeResult, commitRef, *xrpcError) {
	a, xe := s.ownRepo(c, repoName)
	if xe != nil {
		return nil, commitRef{}, xe
	}
	for i := range writes {
		w := &writes[i]
		if !validNSID(w.Collection) {
			return nil, commitRef{}, badRequest("InvalidRequest", "Invalid collection: "+w.Collection)
		}
		if w.Rkey == "" && w.Type == opCreate {
			w.Rkey = s.clock.next(s.opts.now())
		}
		if !validRkey(w.Rkey) {
			return nil, commitRef{}, badRequest("InvalidRequest", `Invalid record key (got "`+w.Rkey+`") at $.rkey`)
		}
		if w.Type == opDelete || w.Type == "delete" {
			continue
		}
		value, xe := withType(w.Collection, w.Value)
		if xe != nil {
			return nil, commitRef{}, xe
		}
		w.Value = value
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	st := a.repo.stage()
	results := make([]writeResult, 0, len(writes))
	points, created, updated, deleted := 0, 0, 0, 0
	for _, w := range writes {
		cur, exists := st.get(w.Collection, w.Rkey)
		if w.swap != nil && (!exists || cur.cid != *w.swap) {
			was := "null"
			if exists {
				was = cur.cid
			}
			return nil, commitRef{}, badRequest("InvalidSwap", "Record was at "+was)
		}
		uri := "at://" + a.did + "/" + w.Collection + "/" + w.Rkey
		switch {
		case w.Type == opDelete || w.Type == "delete":
			if !exists {
				return nil, commitRef{}, internalError()
			}
			st.set(w.Collection, w.Rkey, nil)
			points += deletePoints
			deleted++
			results = append(results, writeResult{Type: "com.atproto.repo.applyWrites#deleteResult"})
			continue
		case w.Type == opCreate && exists, w.Type == opUpdate && !exists:
			return nil, commitRef{}, internalError()
		}
		cid, err := recordCID(w.Value)
		if err != nil {
			return nil, commitRef{}, badRequest("InvalidRequest", "Invalid record: "+err.Error())
		}
		st.set(w.Collection, w.Rkey, &stored{cid: cid, value: w.Value})
		kind := "createResult"
		if exists {
			kind = "updateResult"
			points += updatePoints
			updated++
		} else {
			points += createPoints
			created++
		}
		results = append(results, writeResult{
			Type: "com.atproto.repo.applyWrites#" + kind, URI: uri, CID: cid, ValidationStatus: validationStatus(w.Collection),
		})
	}
	if xe := s.chargeWrites(c, points); xe != nil {
		s.stats.Throttled++
		return nil, commitRef{}, xe
	}
	commit := st.apply(s.clock.next(s.opts.now()))
	s.stats.Commits++
	s.stats.RecordsCreated += created
	s.stats.RecordsUpdated += updated
	s.stats.RecordsDeleted += deleted
	return results, commit, nil
}

// withType checks a record's $type against its collection, adding it when
// missing, as the PDS does.
func withType(collection string, value json.RawMessage) (json.RawMessage, *xrpcError) {
	var rec map[string]json.RawMessage
	if len(bytes.TrimSpace(value)) == 0 || json.Unmarshal(value, &rec) != nil || rec == nil {
		return nil, badRequest("InvalidRequest", "Invalid record: must be an object")
	}
	t, ok := rec["$type"]
	if !ok {
		rec["$type"], _ = json.Marshal(collection)
		out, err := json.Marshal(rec)
		if err != nil {
			return nil, badRequest("InvalidRequest", "Invalid record: "+err.Error())
		}
		return out, nil
	}
	var typ string
	if json.Unmarshal(t, &typ) != nil || typ != collection {
		return nil, badRequest("InvalidRequest", "Invalid $type: expected "+collection+", got "+string(t))
	}
	return value, nil
}

// validationStatus is "valid" for the lexicons a PDS knows and validates,
// "unknown" for others (such as Grain's), which it stores unchecked.
func validationStatus(collection string) string {
	if strings.HasPrefix(collection, "app.bsky.") || strings.HasPrefix(collection, "com.atproto.") || strings.HasPrefix(collection, "chat.bsky.") {
		return "valid"
	}
	return "unknown"
}

// repoByName is the account a repo parameter (DID or handle) names.
func (s *Server) repoByName(name string) *account {
	if a := s.accounts[name]; a != nil {
		return a
	}
	return s.handles[strings.ToLower(name)]
}

func (s *Server) getRecord(c *call) (any, *xrpcError) {
	q := c.r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.repoByName(q.Get("repo"))
	if a == nil {
		return nil, badRequest("InvalidRequest", "Could not find repo: "+q.Get("repo"))
	}
	collection, rkey := q.Get("collection"), q.Get("rkey")
	uri := "at://" + a.did + "/" + collection + "/" + rkey
	rec, ok := a.repo.get(collection, rkey)
	if !ok || (q.Get("cid") != "" && q.Get("cid") != rec.cid) {
		return nil, badRequest("RecordNotFound", "Could not locate record: "+uri)
	}
	return map[string]any{"uri": uri, "cid": rec.cid, "value": rec.value}, nil
}

func (s *Server) listRecords(c *call) (any, *xrpcError) {
	q := c.r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return nil, badRequest("InvalidRequest", "limit must be an integer from 1 to 100")
		}
		limit = n
	}
	reverse := q.Get("reverse") == "true"
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.repoByName(q.Get("repo"))
	if a == nil {
		return nil, badRequest("InvalidRequest", "Could not find repo: "+q.Get("repo"))
	}
	collection, cursor := q.Get("collection"), q.Get("cursor")
	keys := sortedKeys(a.repo.collections[collection])
	if !reverse {
		// Newest first: record keys are TIDs, which sort by time.
		slices.Reverse(keys)
	}
	type item struct {
		URI   string          `json:"uri"`
		CID   string          `json:"cid"`
		Value json.RawMessage `json:"value"`
	}
	out := struct {
		Records []item `json:"records"`
		Cursor  string `json:"cursor,omitempty"`
	}{Records: []item{}}
	for _, k := range keys {
		if cursor != "" && ((!reverse && k >= cursor) || (reverse && k <= cursor)) {
			continue
		}
		rec := a.repo.collections[collection][k]
		out.Records = append(out.Records, item{URI: "at://" + a.did + "/" + collection + "/" + k, CID: rec.cid, Value: rec.value})
		out.Cursor = k
		if len(out.Records) == limit {
			break
		}
	}
	return out, nil
}

func (s *Server) getLatestCommit(c *call) (any, *xrpcError) {
	did := c.r.URL.Query().Get("did")
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[did]
	if a == nil {
		return nil, badRequest("RepoNotFound", "Could not find root for DID: "+did)
	}
	if a.repo.rev == "" {
		// A new account's repository starts with an empty commit.
		a.repo.stage().apply(s.clock.next(s.opts.now()))
	}
	return commitRef{CID: a.repo.commit, Rev: a.repo.rev}, nil
}

func (s *Server) uploadBlob(c *call) (any, *xrpcError) {
	if int64(len(c.body)) > s.opts.blobLimit {
		return nil, &xrpcError{status: http.StatusRequestEntityTooLarge, name: "PayloadTooLarge", message: "request entity too large"}
	}
	if xe := s.chargeAccount(c, "blobs", 1, true, s.opts.limits.Blobs); xe != nil {
		s.count(func(st *Stats) { st.Throttled++ })
		return nil, xe
	}
	// The PDS sniffs the type from the bytes, whatever the header says.
	mimeType := http.DetectContentType(c.body)
	if mimeType == "application/octet-stream" || strings.HasPrefix(mimeType, "text/plain") {
		if h := c.r.Header.Get("Content-Type"); h != "" {
			mimeType = h
		}
	}
	mimeType, _, _ = strings.Cut(mimeType, ";")
	cid := cidOf(codecRaw, c.body)
	s.mu.Lock()
	c.acct.repo.blobs[cid] = blob{data: c.body, mimeType: mimeType}
	s.stats.BlobUploads++
	s.mu.Unlock()
	return map[string]any{"blob": map[string]any{
		"$type": "blob", "ref": map[string]string{"$link": cid}, "mimeType": mimeType, "size": len(c.body),
	}}, nil
}

func (s *Server) getBlob(c *call) (any, *xrpcError) {
	q := c.r.URL.Query()
	s.mu.Lock()
	a := s.accounts[q.Get("did")]
	var b blob
	ok := false
	if a != nil {
		b, ok = a.repo.blobs[q.Get("cid")]
	}
	s.mu.Unlock()
	if !ok {
		return nil, badRequest("BlobNotFound", "Blob not found")
	}
	c.raw = true
	c.w.Header().Set("Content-Type", b.mimeType)
	c.w.Header().Set("Content-Length", strconv.Itoa(len(b.data)))
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(b.data)
	return nil, nil
}
