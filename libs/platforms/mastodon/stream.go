package mastodon

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"gallerysync.dev/libs/platforms"
)

const (
	// maxEventBytes bounds one server-sent event; a Status is a few KiB.
	maxEventBytes = 1 << 20
	// maxRedirects bounds the redirects to a separate streaming host.
	maxRedirects = 3
)

// errStreamEnded is a stream the server closed; the watcher reconnects.
var errStreamEnded = errors.New("stream ended")

// StreamKind selects the streaming timeline a watcher follows.
type StreamKind int

// The streaming timelines a watcher can follow.
const (
	// StreamUser follows GET /api/v1/streaming/user: one connection carries
	// the account's own statuses of every visibility (and its home
	// timeline, which is filtered out). The token needs read:statuses and
	// read:notifications.
	StreamUser StreamKind = iota
	// StreamHashtag follows GET /api/v1/streaming/hashtag?tag=<album>, one
	// connection per album. It sees public statuses only; the others are
	// found by the periodic listing.
	StreamHashtag
)

// sseEvent is one server-sent event; tag is the hashtag of the stream it
// came on ("" for the user stream).
type sseEvent struct {
	name, data, tag string
}

// openStream connects to a streaming endpoint and returns the open answer,
// so the subscription exists before anything is listed. Redirects to a
// separate streaming host (how Mastodon announces one) keep the token
// unless they leave https.
func (a *Adapter) openStream(ctx context.Context, s *session, path string, q url.Values) (*http.Response, error) {
	target := s.base + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: stream %s: %v", platforms.ErrPermanent, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	client := &http.Client{Transport: a.client.Transport, CheckRedirect: keepTokenOnRedirect(s.token)}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("stream %s: %w", path, ctx.Err())
		}
		return nil, &platforms.TransientError{Err: fmt.Errorf("stream %s: %w", path, err)}
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
		return nil, s.classify(request{method: http.MethodGet, path: path}, resp, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		resp.Body.Close()
		return nil, &platforms.TransientError{Err: fmt.Errorf("stream %s: answer is %q, not an event stream", path, ct)}
	}
	return resp, nil
}

// keepTokenOnRedirect lets a stream follow a few redirects, carrying the
// bearer token along (Go drops it when the host changes), but never from
// https to plain http.
func keepTokenOnRedirect(token string) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return fmt.Errorf("stream: more than %d redirects", maxRedirects)
		}
		if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("stream: redirect from https to %s refused", req.URL.Scheme)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

// readEvents parses a server-sent event stream into out until the stream
// ends, fails or ctx ends. Every line read, heartbeats (":thump") included,
// calls alive, which keeps the idle timer from closing the stream.
func readEvents(ctx context.Context, body io.Reader, tag string, out chan<- sseEvent, alive func()) error {
	br := bufio.NewReaderSize(body, 64<<10)
	var name string
	var data strings.Builder
	for {
		line, err := readLine(br)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errStreamEnded
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &platforms.TransientError{Err: fmt.Errorf("read stream: %w", err)}
		}
		alive()
		switch {
		case line == "":
			if name == "" && data.Len() == 0 {
				continue
			}
			ev := sseEvent{name: name, data: data.String(), tag: tag}
			name = ""
			data.Reset()
			select {
			case out <- ev:
			case <-ctx.Done():
				return ctx.Err()
			}
		case strings.HasPrefix(line, ":"):
			// A comment: the heartbeat.
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				name = value
			case "data":
				if data.Len() > 0 {
					data.WriteByte('\n')
				}
				if data.Len()+len(value) > maxEventBytes {
					return &platforms.TransientError{Err: fmt.Errorf("read stream: event larger than %d bytes", maxEventBytes)}
				}
				data.WriteString(value)
			}
		}
	}
}

// readLine reads one line without its line ending, at most maxEventBytes.
func readLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			return "", err
		}
		b = append(b, chunk...)
		if len(b) > maxEventBytes {
			return "", fmt.Errorf("line longer than %d bytes", maxEventBytes)
		}
		if !isPrefix {
			return string(b), nil
		}
	}
}

// backoff is the pause before reconnect attempt n (0-based): first,
// doubling up to most, with up to a fifth of jitter either way.
func backoff(n int, first, most time.Duration, jitter func(int64) int64) time.Duration {
	d := first
	for i := 0; i < n && d < most; i++ {
		d *= 2
	}
	d = min(d, most)
	if spread := int64(d) / 5; spread > 0 {
		d += time.Duration(jitter(2*spread+1) - spread)
	}
	return d
}
