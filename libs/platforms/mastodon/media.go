package mastodon

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"gallerysync.dev/libs/media"
	"gallerysync.dev/libs/platforms"
)

// upload fetches the item's media from its source and uploads it with its
// alt text, waiting until Mastodon has processed it (a status can only
// attach processed media).
func (a *Adapter) upload(ctx context.Context, s *session, mediaURL, alt string) (string, error) {
	blob, err := a.fetcher.Fetch(ctx, mediaURL)
	if err != nil {
		if media.IsPermanent(err) {
			return "", fmt.Errorf("fetch media: %w: %w", platforms.ErrPermanent, err)
		}
		return "", fmt.Errorf("fetch media: %w", err)
	}
	body, contentType, err := mediaForm(blob, alt)
	if err != nil {
		return "", fmt.Errorf("%w: media form: %v", platforms.ErrPermanent, err)
	}
	var att attachment
	code, err := s.do(ctx, request{method: http.MethodPost, path: "/api/v2/media", body: body, contentType: contentType}, &att)
	if err != nil {
		return "", fmt.Errorf("upload media: %w", err)
	}
	if att.ID == "" {
		return "", &platforms.TransientError{Err: fmt.Errorf("upload media: answer %d without id", code)}
	}
	if code == http.StatusAccepted {
		if err := a.awaitProcessed(ctx, s, string(att.ID)); err != nil {
			return "", err
		}
	}
	return string(att.ID), nil
}

// awaitProcessed polls an attachment until Mastodon answers 200 (206 means
// still processing), with a doubling pause and a bounded number of polls;
// a retry of the whole write starts over with a fresh upload.
func (a *Adapter) awaitProcessed(ctx context.Context, s *session, mediaID string) error {
	const maxPause = 5 * time.Second
	pause := a.pollInterval
	path := "/api/v1/media/" + mediaID
	for range a.maxPolls {
		if err := sleep(ctx, pause); err != nil {
			return fmt.Errorf("await media %s: %w", mediaID, err)
		}
		pause = min(2*pause, maxPause)
		var att attachment
		code, err := s.do(ctx, request{method: http.MethodGet, path: path}, &att)
		if err != nil {
			return fmt.Errorf("await media %s: %w", mediaID, err)
		}
		if code == http.StatusOK {
			return nil
		}
	}
	return &platforms.TransientError{Err: fmt.Errorf("media %s still processing after %d polls", mediaID, a.maxPolls)}
}

// mediaForm is the multipart body of POST /api/v2/media: the file with its
// MIME type (Mastodon requires one) and the alt text.
func mediaForm(blob media.Blob, alt string) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if alt != "" {
		if err := w.WriteField("description", alt); err != nil {
			return nil, "", err
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, quoteEscape(blob.Filename)))
	h.Set("Content-Type", blob.MimeType)
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(blob.Data); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

func quoteEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "").Replace(s)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
