package mastodonsim

import (
	"fmt"
	"net/url"
	"time"
)

// formatTime renders a Datetime as the API does: UTC with milliseconds.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func strPtr(s string) *string { return &s }

func boolPtr(b bool) *bool { return &b }

// accountEntity renders an account. Mastodon reports creation at day
// granularity and the last post as a date.
func accountEntity(a *account, base string) Account {
	profile := base + "/@" + url.PathEscape(a.username)
	acc := Account{
		ID:           a.id,
		Username:     a.username,
		Acct:         a.username,
		DisplayName:  a.username,
		Discoverable: true,
		CreatedAt:    formatTime(a.createdAt.UTC().Truncate(24 * time.Hour)),
		Note:         "",
		URL:          profile,
		Avatar:       base + "/avatars/original/missing.png",
		AvatarStatic: base + "/avatars/original/missing.png",
		Header:       base + "/headers/original/missing.png",
		HeaderStatic: base + "/headers/original/missing.png",
		Emojis:       []CustomEmoji{},
		Fields:       []Field{},
	}
	acc.StatusesCount = a.live
	if a.lastPost != nil {
		acc.LastStatusAt = strPtr(a.lastPost.UTC().Format("2006-01-02"))
	}
	return acc
}

// mediaEntity renders an attachment with the description and focus of one
// version (the current one unless a history snapshot says otherwise).
func mediaEntity(m *media, description *string, focus *Focus, base string) MediaAttachment {
	file := base + "/media/" + idString(m.id) + "." + m.ext
	small := base + "/media/" + idString(m.id) + "-small." + m.ext
	meta := &MediaMeta{Focus: focus}
	if m.width > 0 && m.height > 0 {
		// The emulator does not resize, so the preview is the original.
		size := &ImageSize{
			Width:  m.width,
			Height: m.height,
			Size:   fmt.Sprintf("%dx%d", m.width, m.height),
			Aspect: float64(m.width) / float64(m.height),
		}
		meta.Original, meta.Small = size, size
	}
	return MediaAttachment{
		ID:          idString(m.id),
		Type:        "image",
		URL:         &file,
		PreviewURL:  &small,
		Meta:        meta,
		Description: description,
	}
}

func currentMedia(m *media, base string) MediaAttachment {
	return mediaEntity(m, m.description, m.focus, base)
}

// statusEntity renders a status for a viewer (nil when anonymous).
func statusEntity(st *status, viewer *account, base string) Status {
	content, tags := renderContent(st.text, base)
	acct := st.account
	id := idString(st.id)
	link := base + "/@" + url.PathEscape(acct.username) + "/" + id
	out := Status{
		ID:               id,
		CreatedAt:        formatTime(st.createdAt),
		Sensitive:        st.sensitive,
		SpoilerText:      st.spoiler,
		Visibility:       st.visibility,
		Language:         strPtr(st.language),
		URI:              base + "/users/" + url.PathEscape(acct.username) + "/statuses/" + id,
		URL:              &link,
		Content:          content,
		Account:          accountEntity(acct, base),
		MediaAttachments: make([]MediaAttachment, 0, len(st.media)),
		Mentions:         []Mention{},
		Tags:             tags,
		Emojis:           []CustomEmoji{},
		QuoteApproval:    quoteApproval(st, viewer),
	}
	if st.inReplyTo != nil {
		out.InReplyToID = strPtr(idString(st.inReplyTo.id))
		out.InReplyToAccountID = strPtr(st.inReplyTo.account.id)
	}
	if st.editedAt != nil {
		out.EditedAt = strPtr(formatTime(*st.editedAt))
	}
	for _, m := range st.media {
		out.MediaAttachments = append(out.MediaAttachments, currentMedia(m, base))
	}
	if viewer != nil {
		out.Favourited, out.Reblogged, out.Muted, out.Bookmarked = boolPtr(false), boolPtr(false), boolPtr(false), boolPtr(false)
		if viewer == acct && (st.visibility == "public" || st.visibility == "unlisted") {
			out.Pinned = boolPtr(false)
		}
	}
	return out
}

// quoteApproval reports the default policy: anyone may quote a public or
// unlisted post, only the author a private one.
func quoteApproval(st *status, viewer *account) *QuoteApproval {
	qa := &QuoteApproval{Automatic: []string{}, Manual: []string{}, CurrentUser: "denied"}
	if st.visibility == "public" || st.visibility == "unlisted" {
		qa.Automatic = []string{"public"}
		qa.CurrentUser = "automatic"
	}
	if viewer == st.account && st.visibility != "direct" {
		qa.CurrentUser = "automatic"
	}
	return qa
}

// editEntity renders one version from a status's history.
func editEntity(st *status, snap snapshot, base string) StatusEdit {
	content, _ := renderContent(snap.text, base)
	out := StatusEdit{
		Content:          content,
		SpoilerText:      snap.spoiler,
		Sensitive:        snap.sensitive,
		CreatedAt:        formatTime(snap.at),
		Account:          accountEntity(st.account, base),
		MediaAttachments: make([]MediaAttachment, 0, len(snap.media)),
		Emojis:           []CustomEmoji{},
	}
	for _, ms := range snap.media {
		out.MediaAttachments = append(out.MediaAttachments, mediaEntity(ms.media, ms.description, ms.focus, base))
	}
	return out
}

// takeSnapshot records the current version of a status.
func takeSnapshot(st *status, at time.Time) snapshot {
	snap := snapshot{at: at, text: st.text, spoiler: st.spoiler, sensitive: st.sensitive}
	for _, m := range st.media {
		snap.media = append(snap.media, mediaState{media: m, description: m.description, focus: m.focus})
	}
	return snap
}
