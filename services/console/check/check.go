// Package check verifies the credentials a site owner enters to connect a
// platform account, before anything is stored: one Checker per platform,
// each making the one cheap call that proves the credentials work.
package check

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Classes of check failures; the console shows the message and stores nothing.
var (
	// ErrInvalid: what was entered cannot be right (no URL, empty token).
	ErrInvalid = errors.New("invalid account details")
	// ErrRejected: the platform answered and refused the credentials.
	ErrRejected = errors.New("the platform refused these credentials")
	// ErrUnreachable: the platform could not be asked (network, 5xx, 429).
	ErrUnreachable = errors.New("the platform could not be reached")
)

// Credentials are what the site owner entered.
type Credentials struct {
	// BaseURL is the instance, PDS or API address.
	BaseURL string
	// Handle is the account name, where the platform logs in with one.
	Handle string
	// Secret is the access token or app password. Never log it.
	Secret string
}

// Account is a verified account, as a connection stores it.
type Account struct {
	// BaseURL is the normalized API address.
	BaseURL string
	// AccountID is the platform's id of the account.
	AccountID string
	// DisplayName is how the account is shown, e.g. "@name@host".
	DisplayName string
}

// Checker verifies credentials for one platform.
type Checker interface {
	// Check calls the platform with the credentials and returns the account
	// they belong to, or an error wrapping ErrInvalid, ErrRejected or
	// ErrUnreachable.
	Check(ctx context.Context, c Credentials) (Account, error)
}

// maxAnswer bounds what is read of an answer.
const maxAnswer = 1 << 20

// ErrPrivateAddress is refused by a client without private access: an
// address entered by a site owner must not reach into our own network.
var ErrPrivateAddress = errors.New("address is not public")

// NewHTTPClient is the client checks use: no proxy from the environment, no
// redirects, a timeout, and unless allowPrivate (local runs against the
// sandbox) no connection to loopback, private or link-local addresses.
func NewHTTPClient(timeout time.Duration, allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: timeout}
	if !allowPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip := net.ParseIP(host)
			if ip == nil || !isPublic(ip) {
				return fmt.Errorf("%w: %s", ErrPrivateAddress, host)
			}
			return nil
		}
	}
	return &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{DialContext: d.DialContext, TLSHandshakeTimeout: timeout},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// isPublic reports whether ip is a global unicast address outside private ranges.
func isPublic(ip net.IP) bool {
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast()
}

// normalizeURL trims, adds https:// when no scheme is given and checks that
// the result is an absolute http(s) URL without query.
func normalizeURL(raw, what string) (string, error) {
	raw = strings.TrimRight(strings.TrimSpace(raw), "/")
	if raw == "" {
		return "", fmt.Errorf("%w: %s is required", ErrInvalid, what)
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%w: %s %q is not an http(s) address", ErrInvalid, what, raw)
	}
	return u.String(), nil
}

// call sends req and decodes a 200 answer into out; other answers become
// errors of the classes above, worded for the site owner.
func call(client *http.Client, req *http.Request, out any) error {
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, ErrPrivateAddress) {
			return fmt.Errorf("%w: %w", ErrInvalid, ErrPrivateAddress)
		}
		return fmt.Errorf("%w: %s", ErrUnreachable, describe(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("%w: reading the answer: %s", ErrUnreachable, describe(err))
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("%w: the answer is not the expected JSON", ErrRejected)
		}
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("%w: it answered %d, try again later", ErrUnreachable, resp.StatusCode)
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return fmt.Errorf("%w: it redirected to %q; enter that address instead", ErrInvalid, resp.Header.Get("Location"))
	default:
		return fmt.Errorf("%w: it answered %d %s", ErrRejected, resp.StatusCode, platformMessage(body))
	}
}

// platformMessage is the error text of an answer, if it has one.
func platformMessage(body []byte) string {
	var e struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		Message          string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	for _, m := range []string{e.Message, e.ErrorDescription, e.Error} {
		if m != "" {
			if len(m) > 200 {
				m = m[:200]
			}
			return "(" + m + ")"
		}
	}
	return ""
}

// describe shortens a transport error for the site owner.
func describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}
