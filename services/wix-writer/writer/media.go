package writer

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"gallerysync.dev/libs/wix"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// checkMediaURL refuses a media URL that is not absolute http(s) on an
// allowed host: one of -media-allowed-hosts, or the host of the event's
// connection, the platform's own API (an AT Protocol PDS serves the
// account's blobs there, and a PDS can be any host). Wix fetches the media,
// not us, but asking it to fetch an arbitrary URL would make it a proxy for
// whoever controls the event; the connection's host is not the event's to
// choose: the tenant set it when connecting the account, and every call to
// the platform goes there.
func (w *Writer) checkMediaURL(ctx context.Context, j job, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return fmt.Errorf("%w: %q is not an absolute http(s) URL", errHostNotAllowed, raw)
	}
	host := strings.ToLower(u.Host)
	if w.hosts[host] || w.hosts[strings.ToLower(u.Hostname())] && u.Port() == "" {
		return nil
	}
	own, err := w.connectionHost(ctx, j)
	if err != nil {
		return err
	}
	if own != "" && own == host {
		return nil
	}
	return fmt.Errorf("%w: %s", errHostNotAllowed, u.Host)
}

// connectionHost is the host (with its port, if any) of the base URL of
// the event's connection, "" when the connection is gone or names none.
func (w *Writer) connectionHost(ctx context.Context, j job) (string, error) {
	resp, err := w.mapping.GetConnection(ctx, &gsv1.GetConnectionRequest{TenantId: j.tenant(), ConnectionId: j.ev.GetConnectionId()})
	if status.Code(err) == codes.NotFound {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get connection %s: %w", j.ev.GetConnectionId(), err)
	}
	u, err := url.Parse(resp.GetConnection().GetBaseUrl())
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return "", nil
	}
	return strings.ToLower(u.Host), nil
}

// importMedia asks Wix to import the job's media into the Media Manager
// and returns the new file's id. The file is named after the platform item
// and carries "<platform>:<external id>" as its external id, so the File
// Ready/Failed events and the Media Manager say where it came from.
func (w *Writer) importMedia(ctx context.Context, j job) (string, error) {
	it := j.item()
	if err := w.checkMediaURL(ctx, j, it.GetMediaUrl()); err != nil {
		return "", err
	}
	fd, err := w.wix.ImportFile(ctx, j.tenant(), wix.ImportRequest{
		URL:         it.GetMediaUrl(),
		MimeType:    it.GetMimeType(),
		DisplayName: displayName(j.platform(), j.externalID(), it.GetMimeType(), it.GetMediaUrl()),
		ExternalIDs: []string{j.platform() + ":" + j.externalID()},
	})
	if err != nil {
		return "", w.remoteError(ctx, j, "import file", err)
	}
	return fd.ID, nil
}

// waitFile waits until Wix has processed the file, woken early by its File
// Ready/Failed event when one arrives.
func (w *Writer) waitFile(ctx context.Context, j job, fileID string) (wix.FileDescriptor, error) {
	wake, done := w.wakers.register(j.tenant(), fileID)
	defer done()
	fd, err := w.wix.WaitReady(ctx, j.tenant(), fileID, wake)
	if err != nil {
		return wix.FileDescriptor{}, w.remoteError(ctx, j, "wait for file", err)
	}
	return fd, nil
}

// fileGone reports whether a file named by an earlier attempt can no longer
// be used (it failed, or was deleted from the Media Manager), so a new
// import is due rather than a failure.
func fileGone(err error) bool {
	return errors.Is(err, wix.ErrFileFailed) || errors.Is(err, wix.ErrNotFound)
}

// displayName is "<platform>-<external id>.<ext>", reduced to characters
// that are safe in a file name; the extension tells Wix the type when the
// source does not.
func displayName(platform, externalID, mimeType, mediaURL string) string {
	name := safeName(platform) + "-" + safeName(externalID)
	if ext := extension(mimeType, mediaURL); ext != "" {
		name += "." + ext
	}
	return name
}

func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 100 {
			break
		}
	}
	return b.String()
}

// extension is the file extension of a media type, else of the URL's path.
func extension(mimeType, mediaURL string) string {
	switch strings.ToLower(strings.TrimSpace(strings.SplitN(mimeType, ";", 2)[0])) {
	case "image/jpeg":
		return "jpg"
	case "image/png":
		return "png"
	case "image/gif":
		return "gif"
	case "image/webp":
		return "webp"
	case "image/avif":
		return "avif"
	case "image/heic":
		return "heic"
	case "video/mp4":
		return "mp4"
	case "video/quicktime":
		return "mov"
	case "video/webm":
		return "webm"
	}
	if u, err := url.Parse(mediaURL); err == nil {
		ext := strings.ToLower(strings.TrimPrefix(path.Ext(u.Path), "."))
		if ext != "" && len(ext) <= 5 && safeName(ext) == ext {
			return ext
		}
	}
	return ""
}
