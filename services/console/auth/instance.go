// Package auth says who the site owner is: it verifies the signed instance
// Wix puts on the dashboard page's URL and keeps the result in a signed
// session cookie, so every later request is scoped to that tenant alone.
package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors of VerifyInstance. Each says why, so the 401 page and the logs can
// tell a stale link from a forged one.
var (
	// ErrNoInstance: the request carries no instance (or session).
	ErrNoInstance = errors.New("no signed instance")
	// ErrMalformed: the instance is not <signature>.<data> in base64url JSON.
	ErrMalformed = errors.New("malformed signed instance")
	// ErrSignature: the signature does not match the data.
	ErrSignature = errors.New("instance signature does not verify")
	// ErrStale: the instance was signed too long ago (or in the future).
	ErrStale = errors.New("signed instance is too old")
)

// maxInstanceLen bounds what is decoded from a query parameter.
const maxInstanceLen = 8 << 10

// clockSkew is how far in the future a signDate may lie: the signer's clock
// may run ahead of ours a little.
const clockSkew = 5 * time.Minute

// Instance is the verified content of a signed instance.
type Instance struct {
	// InstanceID is the Wix app instance: the tenant.
	InstanceID string
	// UID is the Wix user who opened the page.
	UID string
	// Permissions is what Wix says the user may do (e.g. "OWNER").
	Permissions string
	// SignDate is when Wix signed it.
	SignDate time.Time
}

// wireInstance is the JSON Wix signs; other fields are ignored.
type wireInstance struct {
	InstanceID  string `json:"instanceId"`
	SignDate    string `json:"signDate"`
	UID         string `json:"uid"`
	Permissions string `json:"permissions"`
}

// VerifyInstance checks a signed instance ("<signature>.<data>", base64url
// without padding): the signature is HMAC-SHA256 of the data part, as sent,
// with the app secret; it is compared in constant time before the data is
// parsed. The instance must have been signed within maxAge of now.
func VerifyInstance(secret []byte, signed string, now time.Time, maxAge time.Duration) (Instance, error) {
	if signed == "" {
		return Instance{}, ErrNoInstance
	}
	if len(signed) > maxInstanceLen {
		return Instance{}, fmt.Errorf("%w: %d bytes", ErrMalformed, len(signed))
	}
	sigPart, dataPart, ok := strings.Cut(signed, ".")
	if !ok || sigPart == "" || dataPart == "" {
		return Instance{}, fmt.Errorf("%w: want <signature>.<data>", ErrMalformed)
	}
	sig, err := decode(sigPart)
	if err != nil {
		return Instance{}, fmt.Errorf("%w: signature: %w", ErrMalformed, err)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(dataPart))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return Instance{}, ErrSignature
	}
	data, err := decode(dataPart)
	if err != nil {
		return Instance{}, fmt.Errorf("%w: data: %w", ErrMalformed, err)
	}
	var w wireInstance
	if err := json.Unmarshal(data, &w); err != nil {
		return Instance{}, fmt.Errorf("%w: data: %w", ErrMalformed, err)
	}
	if strings.TrimSpace(w.InstanceID) == "" {
		return Instance{}, fmt.Errorf("%w: no instanceId", ErrMalformed)
	}
	at, err := time.Parse(time.RFC3339Nano, w.SignDate)
	if err != nil {
		return Instance{}, fmt.Errorf("%w: signDate %q", ErrMalformed, w.SignDate)
	}
	if age := now.Sub(at); age > maxAge || age < -clockSkew {
		return Instance{}, fmt.Errorf("%w: signed %s ago, at most %s allowed", ErrStale, age.Round(time.Second), maxAge)
	}
	return Instance{InstanceID: w.InstanceID, UID: w.UID, Permissions: w.Permissions, SignDate: at}, nil
}

// SignInstance makes a signed instance the way Wix does, for tests and
// local tools that stand in for the Wix dashboard.
func SignInstance(secret []byte, in Instance) (string, error) {
	data, err := json.Marshal(wireInstance{
		InstanceID:  in.InstanceID,
		SignDate:    in.SignDate.UTC().Format(time.RFC3339Nano),
		UID:         in.UID,
		Permissions: in.Permissions,
	})
	if err != nil {
		return "", fmt.Errorf("sign instance: %w", err)
	}
	enc := base64.RawURLEncoding.EncodeToString(data)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(enc))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) + "." + enc, nil
}

// decode reads base64url, without padding as Wix sends it, or with it.
func decode(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
