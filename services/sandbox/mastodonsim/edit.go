package mastodonsim

import (
	"slices"
	"strings"
)

// mediaChange is a pending description/focus update from media_attributes.
type mediaChange struct {
	media       *media
	description *string
	focus       *Focus
}

// editStatus handles PUT /api/v1/statuses/:id. Like Mastodon, it treats the
// request as the complete new state of text, spoiler, sensitivity and media:
// an omitted media_ids removes the attachments. Nothing changes unless every
// check passes; an edit that changes nothing records no new version.
func (s *Server) editStatus(c *call) (any, error) {
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
	next, err := s.resolveMedia(c.user, p.list("media_ids"), st)
	if err != nil {
		return nil, err
	}
	changes, err := mediaChanges(p.hashes("media_attributes"), next)
	if err != nil {
		return nil, err
	}

	// UpdateStatusService: a blank text takes the spoiler's place, and the
	// spoiler then stays as it was.
	text := strings.TrimSpace(p.str("status"))
	givenSpoiler := strings.TrimSpace(p.str("spoiler_text"))
	spoiler := givenSpoiler
	if text == "" && givenSpoiler != "" {
		text, spoiler, givenSpoiler = givenSpoiler, st.spoiler, ""
	}
	sensitive := givenSpoiler != ""
	if b := p.boolean("sensitive"); b != nil && *b {
		sensitive = true
	}
	if text == "" && len(next) == 0 {
		return nil, errTextBlank
	}
	if countableLength(text, spoiler) > maxStatusChars {
		return nil, errTooLong
	}
	lang := language(p.str("language"), st.language)

	changed := text != st.text || spoiler != st.spoiler || sensitive != st.sensitive || lang != st.language ||
		!slices.Equal(next, st.media)
	for _, ch := range changes {
		changed = changed || !equalStr(ch.description, ch.media.description) || !equalFocus(ch.focus, ch.media.focus)
	}
	s.stats.StatusesEdited++
	if !changed {
		return statusEntity(st, c.user, c.base), nil
	}

	now := s.opts.now()
	if len(st.history) == 0 {
		st.history = append(st.history, takeSnapshot(st, st.createdAt))
	}
	for _, ch := range changes {
		ch.media.description, ch.media.focus = ch.description, ch.focus
	}
	for _, m := range next {
		m.status = st
	}
	st.text, st.spoiler, st.sensitive, st.language, st.media = text, spoiler, sensitive, lang, next
	st.editedAt = &now
	st.history = append(st.history, takeSnapshot(st, now))
	s.publish("status.update", st)
	return statusEntity(st, c.user, c.base), nil
}

// mediaChanges reads media_attributes[] for the attachments the status will
// show; entries for other ids are ignored, as Mastodon ignores them.
func mediaChanges(attrs []map[string]string, next []*media) ([]mediaChange, error) {
	var out []mediaChange
	for _, a := range attrs {
		id, ok := parseID(strings.TrimSpace(a["id"]))
		if !ok {
			continue
		}
		i := slices.IndexFunc(next, func(m *media) bool { return m.id == id })
		if i < 0 {
			continue
		}
		ch := mediaChange{media: next[i], description: next[i].description, focus: next[i].focus}
		if d, ok := a["description"]; ok {
			if len([]rune(d)) > maxDescription {
				return nil, errDescTooLong
			}
			ch.description = &d
		}
		if f, ok := a["focus"]; ok && strings.TrimSpace(f) != "" {
			focus, err := parseFocus(f)
			if err != nil {
				return nil, err
			}
			ch.focus = focus
		}
		out = append(out, ch)
	}
	return out, nil
}

func equalStr(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func equalFocus(a, b *Focus) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
