package wix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"
)

const (
	// maxResponseBytes bounds what is read of an answer; a page of 100
	// items with video renditions is well under 1 MiB.
	maxResponseBytes = 16 << 20
	// maxRetryAfterWait is the longest Retry-After slept inside a call; a
	// longer one is returned (APIError.RetryAfter) for the caller to
	// schedule, so a worker is not held.
	maxRetryAfterWait = 30 * time.Second
)

// request is one REST call.
type request struct {
	method string
	// url is absolute; path is the part named in logs and errors.
	url   string
	path  string
	query url.Values
	// body is encoded as JSON when not nil.
	body any
	// idempotent calls are retried on any retryable failure. Others (Wix
	// has no idempotency key) only when the request surely did not take
	// effect: a 429, or a connection that was never made.
	idempotent bool
	// noAuth is the token request itself: no token, no limiter.
	noAuth bool
}

// do sends a request, retrying as the request allows, and decodes a 2xx
// answer into out (when not nil). Every attempt first waits for the limiter;
// its error ends the call at once. A 401 drops the token and the call is
// sent once more with a fresh one.
func (c *Client) do(ctx context.Context, instanceID string, r request, out any) error {
	var payload []byte
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("%w: encode %s %s: %v", ErrInvalidRequest, r.method, r.path, err)
		}
		payload = b
	}
	reauthorized := false
	for attempt := 1; ; {
		var tok string
		if !r.noAuth {
			if c.limiter != nil {
				if err := c.limiter.Wait(ctx, instanceID); err != nil {
					return err
				}
			}
			t, err := c.token(ctx, instanceID)
			if err != nil {
				return err
			}
			tok = t
		}
		err := c.attempt(ctx, r, payload, tok, out)
		if err == nil {
			return nil
		}
		apiErr, isAPI := errors.AsType[*APIError](err)
		if isAPI && apiErr.Status == http.StatusUnauthorized && !r.noAuth && !reauthorized {
			// The token may have been revoked or expired early; one fresh
			// token tells that apart from missing permission.
			reauthorized = true
			c.dropToken(instanceID, tok)
			continue
		}
		if attempt >= c.cfg.MaxAttempts || !IsRetryable(err) || (!r.idempotent && !surelyNotApplied(err)) {
			return err
		}
		var wait time.Duration
		switch {
		case isAPI && apiErr.RetryAfter > maxRetryAfterWait:
			return err
		case isAPI && apiErr.RetryAfter > 0:
			wait = apiErr.RetryAfter
		default:
			wait = c.backoff(attempt)
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "wix call retried",
			slog.String("instance", instanceID), slog.String("method", r.method), slog.String("path", r.path),
			slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("error", err.Error()))
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("%s %s: %w", r.method, r.path, err)
		}
		attempt++
	}
}

// attempt sends the request once.
func (c *Client) attempt(ctx context.Context, r request, payload []byte, tok string, out any) error {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	u := r.url
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(actx, r.method, u, body)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %v", ErrInvalidRequest, r.method, r.path, err)
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		// Raw, as Wix's docs write it (wix-api.md 0).
		req.Header.Set("Authorization", tok)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.failed(ctx, r, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return c.failed(ctx, r, fmt.Errorf("read answer: %w", err))
	}
	if len(data) > maxResponseBytes {
		return fmt.Errorf("%s %s: answer larger than %d bytes", r.method, r.path, maxResponseBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return parseAPIError(resp.StatusCode, resp.Header, data, c.now())
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", r.method, r.path, err)
		}
	}
	return nil
}

// failed classifies an attempt that got no (complete) answer: the caller's
// context ending is final, anything else is a transport failure.
func (c *Client) failed(ctx context.Context, r request, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s %s: %w", r.method, r.path, context.Cause(ctx))
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		// url.Error repeats the whole URL; the path is enough.
		err = ue.Err
	}
	return &transportError{err: fmt.Errorf("%s %s: %w", r.method, r.path, err)}
}

// surelyNotApplied reports whether a failed request cannot have changed
// anything on Wix: it was refused for rate, or no connection was made.
func surelyNotApplied(err error) bool {
	if apiErr, ok := errors.AsType[*APIError](err); ok {
		return apiErr.Status == http.StatusTooManyRequests
	}
	if opErr, ok := errors.AsType[*net.OpError](err); ok {
		return opErr.Op == "dial"
	}
	return false
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return context.Cause(ctx)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
