package atproto_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// expiring is a transport that, once armed, sends the next authenticated
// call with the caller's own access token re-signed as expired an hour ago
// (HS256 with the PDS's secret), so the PDS itself answers ExpiredToken
// and the adapter must refresh its session as it would after two hours.
type expiring struct {
	secret []byte
	armed  atomic.Bool
	next   http.RoundTripper
	// refreshed counts refreshSession calls the PDS accepted.
	refreshed atomic.Int64
}

// RoundTrip implements http.RoundTripper.
func (e *expiring) RoundTrip(req *http.Request) (*http.Response, error) {
	auth := req.Header.Get("Authorization")
	refreshing := strings.HasSuffix(req.URL.Path, "/com.atproto.server.refreshSession")
	if token, ok := strings.CutPrefix(auth, "Bearer "); ok && !refreshing && e.armed.CompareAndSwap(true, false) {
		if expired, ok := e.expire(token); ok {
			req = req.Clone(req.Context())
			req.Header.Set("Authorization", "Bearer "+expired)
		}
	}
	resp, err := e.next.RoundTrip(req)
	if err == nil && refreshing && resp.StatusCode == http.StatusOK {
		e.refreshed.Add(1)
	}
	return resp, err
}

// expire is the token with exp an hour ago, signed again.
func (e *expiring) expire(token string) (string, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	var claims map[string]any
	if json.Unmarshal(raw, &claims) != nil {
		return "", false
	}
	claims["iat"] = time.Now().Add(-3 * time.Hour).Unix()
	claims["exp"] = time.Now().Add(-time.Hour).Unix()
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", false
	}
	signed := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, e.secret)
	mac.Write([]byte(signed))
	return signed + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), true
}
