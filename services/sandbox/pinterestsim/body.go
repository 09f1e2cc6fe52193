package pinterestsim

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"unicode/utf8"
)

// maxBody bounds a JSON request body.
const maxBody = 1 << 20

// fields is a JSON object body, kept raw so that an absent field and null
// can be told apart (PATCH clears a field sent as null).
type fields map[string]json.RawMessage

// readBody reads a JSON object body.
func readBody(r *http.Request) (fields, error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, invalid("Request body must be JSON (Content-Type: application/json).")
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, invalid("Request body could not be read.")
	}
	if len(raw) > maxBody {
		return nil, &apiError{status: http.StatusRequestEntityTooLarge, code: 1, msg: "Request body is too large."}
	}
	var f fields
	if err := json.Unmarshal(raw, &f); err != nil || f == nil {
		return nil, invalid("Request body is not a JSON object.")
	}
	return f, nil
}

// has reports whether the field was sent (null included).
func (f fields) has(name string) bool {
	_, ok := f[name]
	return ok
}

func (f fields) isNull(name string) bool {
	return bytes.Equal(bytes.TrimSpace(f[name]), []byte("null"))
}

// str reads an optional nullable string of at most limit characters (0: no
// limit): nil when absent or null.
func (f fields) str(name string, limit int) (*string, error) {
	if !f.has(name) || f.isNull(name) {
		return nil, nil
	}
	var v string
	if err := json.Unmarshal(f[name], &v); err != nil {
		return nil, invalid("'" + name + "' must be a string.")
	}
	if limit > 0 && utf8.RuneCountInString(v) > limit {
		return nil, invalid("'" + name + "' must be at most " + itoa(limit) + " characters long.")
	}
	return &v, nil
}

// boolean reads an optional boolean (false when absent or null).
func (f fields) boolean(name string) (bool, error) {
	if !f.has(name) || f.isNull(name) {
		return false, nil
	}
	var v bool
	if err := json.Unmarshal(f[name], &v); err != nil {
		return false, invalid("'" + name + "' must be a boolean.")
	}
	return v, nil
}

// object reads an optional nested object (nil when absent or null).
func (f fields) object(name string) (fields, error) {
	if !f.has(name) || f.isNull(name) {
		return nil, nil
	}
	var v fields
	if err := json.Unmarshal(f[name], &v); err != nil || v == nil {
		return nil, invalid("'" + name + "' must be an object.")
	}
	return v, nil
}

// webURL reports whether s is an absolute http(s) URL.
func webURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func itoa(n int) string { return idString(uint64(n)) }
