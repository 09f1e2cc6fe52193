package mastodonsim

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// maxMediaPerStatus is configuration.statuses.max_media_attachments on a
// stock instance.
const maxMediaPerStatus = 4

var (
	errTooManyMedia  = newAPIError(http.StatusUnprocessableEntity, "Cannot attach more than 4 files")
	errTooLong       = newAPIError(http.StatusUnprocessableEntity, fmt.Sprintf("Validation failed: Text character limit of %d exceeded", maxStatusChars))
	errVisibility    = newAPIError(http.StatusUnprocessableEntity, "Validation failed: Visibility is not included in the list")
	errReplyNotFound = newAPIError(http.StatusNotFound, "The post you are trying to reply to does not appear to exist.")
	errNoScheduling  = newAPIError(http.StatusUnprocessableEntity, "Validation failed: Scheduled posts are not supported by this server")
	errNoPolls       = newAPIError(http.StatusUnprocessableEntity, "Validation failed: Polls are not supported by this server")
	languageCode     = regexp.MustCompile(`^[a-z]{2,3}$`)
)

// defaultLanguage is the instance's default locale, used when a post names
// no valid language.
const defaultLanguage = "en"

// validVisibility reports whether v is one of the documented visibilities.
func validVisibility(v string) bool {
	switch v {
	case "public", "unlisted", "private", "direct":
		return true
	}
	return false
}

// errMediaNotFound names the ids that are unknown, foreign or already posted.
func errMediaNotFound(ids []string) error {
	return newAPIError(http.StatusUnprocessableEntity,
		fmt.Sprintf("Media %s not found or already attached to another post", strings.Join(ids, ", ")))
}

// language keeps a plausible ISO 639 code and otherwise falls back.
func language(given, fallback string) string {
	if languageCode.MatchString(given) {
		return given
	}
	return fallback
}

// createStatus handles POST /api/v1/statuses.
func (s *Server) createStatus(c *call) (any, error) {
	p, err := readParams(c.w, c.r, maxFormBody)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(p.str("scheduled_at")) != "" {
		return nil, errNoScheduling
	}
	if len(p.list("poll[options]")) > 0 {
		return nil, errNoPolls
	}
	key := c.r.Header.Get("Idempotency-Key")

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.now()

	var parent *status
	if id := strings.TrimSpace(p.str("in_reply_to_id")); id != "" {
		if parent = s.visibleStatus(id, c.user); parent == nil {
			return nil, errReplyNotFound
		}
	}
	if key != "" {
		if prev, ok := s.idempotency[idempotencyKey{accountID: c.user.id, key: key}]; ok && now.Before(prev.expires) {
			if prev.status.deleted {
				return nil, errNotFound
			}
			return statusEntity(prev.status, c.user, c.base), nil
		}
	}
	attached, err := s.resolveMedia(c.user, p.list("media_ids"), nil)
	if err != nil {
		return nil, err
	}

	text := strings.TrimSpace(p.str("status"))
	spoiler := strings.TrimSpace(p.str("spoiler_text"))
	sensitive := spoiler != ""
	if b := p.boolean("sensitive"); b != nil && *b {
		sensitive = true
	}
	if text == "" && spoiler != "" {
		text, spoiler = spoiler, ""
	}
	if text == "" && len(attached) == 0 {
		return nil, errTextBlank
	}
	if countableLength(text, spoiler) > maxStatusChars {
		return nil, errTooLong
	}
	visibility := p.str("visibility")
	if visibility == "" {
		visibility = "public"
	}
	if !validVisibility(visibility) {
		return nil, errVisibility
	}

	st := &status{
		id:         s.ids.next(now),
		account:    c.user,
		text:       text,
		spoiler:    spoiler,
		sensitive:  sensitive,
		visibility: visibility,
		language:   language(p.str("language"), defaultLanguage),
		inReplyTo:  parent,
		createdAt:  now,
		media:      attached,
	}
	for _, m := range attached {
		m.status = st
	}
	s.statuses[st.id] = st
	c.user.statuses = append(c.user.statuses, st)
	c.user.live++
	c.user.lastPost = &now
	s.stats.StatusesCreated++
	s.publish("update", st)
	if key != "" {
		s.rememberKey(idempotencyKey{accountID: c.user.id, key: key}, st, now)
	}
	return statusEntity(st, c.user, c.base), nil
}

// rememberKey stores an Idempotency-Key for an hour and forgets expired ones.
func (s *Server) rememberKey(k idempotencyKey, st *status, now time.Time) {
	for old, e := range s.idempotency {
		if !now.Before(e.expires) {
			delete(s.idempotency, old)
		}
	}
	s.idempotency[k] = idempotencyEntry{status: st, expires: now.Add(idempotencyTTL)}
}

// resolveMedia checks media_ids: at most four, each owned by the account and
// either unattached or already on the status being edited. Duplicates
// collapse; the order given is kept.
func (s *Server) resolveMedia(owner *account, ids []string, editing *status) ([]*media, error) {
	if len(ids) > maxMediaPerStatus {
		return nil, errTooManyMedia
	}
	var out []*media
	var missing []string
	seen := map[uint64]bool{}
	for _, raw := range ids {
		id, ok := parseID(strings.TrimSpace(raw))
		m := s.media[id]
		if !ok || m == nil || m.deleted || m.account != owner || (m.status != nil && m.status != editing) {
			missing = append(missing, raw)
			continue
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, m)
		}
	}
	if len(missing) > 0 {
		return nil, errMediaNotFound(missing)
	}
	return out, nil
}

// visibleStatus finds a live status the viewer may see: public and unlisted
// ones for anyone, the rest for their author only.
func (s *Server) visibleStatus(rawID string, viewer *account) *status {
	id, ok := parseID(rawID)
	if !ok {
		return nil
	}
	st := s.statuses[id]
	if st == nil || st.deleted {
		return nil
	}
	if st.visibility != "public" && st.visibility != "unlisted" && st.account != viewer {
		return nil
	}
	return st
}

// ownStatus finds a live status of the caller; another account's status is
// "not found", as Mastodon scopes the lookup to the caller.
func (s *Server) ownStatus(c *call) (*status, error) {
	id, ok := parseID(c.pathVars["id"])
	if !ok {
		return nil, errNotFound
	}
	st := s.statuses[id]
	if st == nil || st.deleted || st.account != c.user {
		return nil, errNotFound
	}
	return st, nil
}

// getStatus handles GET /api/v1/statuses/:id.
func (s *Server) getStatus(c *call) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.visibleStatus(c.pathVars["id"], c.user)
	if st == nil {
		return nil, errNotFound
	}
	return statusEntity(st, c.user, c.base), nil
}

// deleteStatus handles DELETE /api/v1/statuses/:id. The answer carries the
// source text for redrafting. Its media are freed for reuse unless
// delete_media is set, in which case they are gone.
func (s *Server) deleteStatus(c *call) (any, error) {
	p, err := readParams(c.w, c.r, maxFormBody)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.ownStatus(c)
	if err != nil {
		return nil, err
	}
	out := deletedStatus{Status: statusEntity(st, c.user, c.base)}
	out.Text = strPtr(st.text)
	out.Status.Account.StatusesCount--

	s.publishDelete(st)
	dropMedia := p.boolean("delete_media")
	for _, m := range s.mediaOf(st) {
		if dropMedia != nil && *dropMedia {
			m.deleted, m.data = true, nil
		}
		m.status = nil
	}
	st.deleted = true
	st.account.live--
	s.stats.StatusesDeleted++
	return out, nil
}

// mediaOf lists every attachment bound to a status, including ones an edit
// removed from display (Mastodon keeps those bound to the status).
func (s *Server) mediaOf(st *status) []*media {
	var out []*media
	for _, m := range s.media {
		if m.status == st {
			out = append(out, m)
		}
	}
	return out
}

// statusSource handles GET /api/v1/statuses/:id/source.
func (s *Server) statusSource(c *call) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.ownStatus(c)
	if err != nil {
		return nil, err
	}
	return StatusSource{ID: idString(st.id), Text: st.text, SpoilerText: st.spoiler}, nil
}

// statusHistory handles GET /api/v1/statuses/:id/history: every version,
// oldest first; a status never edited has exactly one.
func (s *Server) statusHistory(c *call) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.visibleStatus(c.pathVars["id"], c.user)
	if st == nil {
		return nil, errNotFound
	}
	snaps := st.history
	if len(snaps) == 0 {
		at := st.createdAt
		if st.editedAt != nil {
			at = *st.editedAt
		}
		snaps = []snapshot{takeSnapshot(st, at)}
	}
	out := make([]StatusEdit, 0, len(snaps))
	for _, snap := range snaps {
		out = append(out, editEntity(st, snap, c.base))
	}
	return out, nil
}
