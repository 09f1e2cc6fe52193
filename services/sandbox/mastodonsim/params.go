package mastodonsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Request body limits: form bodies are small; a media upload may carry a
// file of up to maxFileSize plus the rest of its multipart envelope.
const (
	maxFormBody   = 1 << 20
	maxFileSize   = 16 << 20
	maxUploadBody = maxFileSize + 1<<20
)

var errBadParams = newAPIError(http.StatusBadRequest, "Error occurred while parsing request parameters")

// pair is one parameter in the order the client sent it.
type pair struct{ key, value string }

// upload is a file part of a multipart body.
type upload struct {
	filename string
	data     []byte
	tooLarge bool
}

// params holds a request's parameters the way Rails sees them: query and
// body merged, with bracketed names ("media_ids[]", "media_attributes[][id]")
// kept as sent and interpreted on lookup.
type params struct {
	pairs []pair
	files map[string]*upload
}

// readParams parses the query string and a form-urlencoded, multipart or
// JSON body of at most maxBody bytes.
func readParams(w http.ResponseWriter, r *http.Request, maxBody int64) (*params, error) {
	p := &params{files: map[string]*upload{}}
	if err := p.addQuery(r.URL.RawQuery); err != nil {
		return nil, err
	}
	if r.Body == nil || r.Body == http.NoBody {
		return p, nil
	}
	body := http.MaxBytesReader(w, r.Body, maxBody)
	ctype := r.Header.Get("Content-Type")
	mediaType, mparams, err := mime.ParseMediaType(ctype)
	if err != nil && ctype != "" {
		return nil, errBadParams
	}
	switch mediaType {
	case "application/json":
		err = p.addJSON(body)
	case "multipart/form-data":
		err = p.addMultipart(body, mparams["boundary"])
	case "application/x-www-form-urlencoded", "":
		var raw []byte
		raw, err = io.ReadAll(body)
		if err == nil {
			err = p.addQuery(string(raw))
		}
	default:
		_, err = io.Copy(io.Discard, body)
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, errBodyTooLarge
	}
	return p, err
}

func (p *params) addQuery(raw string) error {
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return errBadParams
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return errBadParams
		}
		p.pairs = append(p.pairs, pair{key: key, value: val})
	}
	return nil
}

func (p *params) addMultipart(body io.Reader, boundary string) error {
	if boundary == "" {
		return errBadParams
	}
	mr := multipart.NewReader(body, boundary)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return badBody(err)
		}
		name := part.FormName()
		if part.FileName() != "" {
			data, err := io.ReadAll(io.LimitReader(part, maxFileSize+1))
			if err != nil {
				return badBody(err)
			}
			up := &upload{filename: part.FileName(), data: data}
			if len(data) > maxFileSize {
				up.tooLarge, up.data = true, nil
				if _, err := io.Copy(io.Discard, part); err != nil {
					return badBody(err)
				}
			}
			p.files[name] = up
			continue
		}
		data, err := io.ReadAll(io.LimitReader(part, maxFormBody+1))
		if err != nil {
			return badBody(err)
		}
		if len(data) > maxFormBody {
			return errBodyTooLarge
		}
		p.pairs = append(p.pairs, pair{key: name, value: string(data)})
	}
}

// badBody keeps a size overrun recognisable and reports the rest as
// unparsable.
func badBody(err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return err
	}
	return errBadParams
}

func (p *params) addJSON(body io.Reader) error {
	raw, err := io.ReadAll(body)
	if err != nil {
		return badBody(err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return errBadParams
	}
	flattenJSON("", obj, &p.pairs)
	return nil
}

// flattenJSON turns a JSON document into bracketed form names. Arrays of
// objects become indexed hashes ("media_attributes[0][id]") so that their
// entries cannot run into each other.
func flattenJSON(prefix string, v any, out *[]pair) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			name := k
			if prefix != "" {
				name = prefix + "[" + k + "]"
			}
			flattenJSON(name, t[k], out)
		}
	case []any:
		for i, e := range t {
			if _, isObj := e.(map[string]any); isObj {
				flattenJSON(prefix+"["+strconv.Itoa(i)+"]", e, out)
				continue
			}
			*out = append(*out, pair{key: prefix + "[]", value: scalar(e)})
		}
	default:
		*out = append(*out, pair{key: prefix, value: scalar(t)})
	}
}

func scalar(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	default:
		return fmt.Sprint(t)
	}
}

// value returns the last value sent for name, as Rails keeps the last one.
func (p *params) value(name string) (string, bool) {
	for i := len(p.pairs) - 1; i >= 0; i-- {
		if p.pairs[i].key == name {
			return p.pairs[i].value, true
		}
	}
	return "", false
}

// str returns the value for name or "".
func (p *params) str(name string) string {
	v, _ := p.value(name)
	return v
}

// list returns the values of an array parameter, sent as "name[]" (or, as a
// convenience, as repeated "name").
func (p *params) list(name string) []string {
	var out []string
	for _, kv := range p.pairs {
		if kv.key == name+"[]" || kv.key == name {
			if kv.value != "" {
				out = append(out, kv.value)
			}
		}
	}
	return out
}

// hashes returns an array of hashes sent either as "name[][key]" (a new hash
// starts when a key repeats, as Rack parses it) or as "name[i][key]".
func (p *params) hashes(name string) []map[string]string {
	var out []map[string]string
	indexed := map[string]map[string]string{}
	for _, kv := range p.pairs {
		rest, ok := strings.CutPrefix(kv.key, name+"[")
		if !ok {
			continue
		}
		idx, rest, ok := strings.Cut(rest, "][")
		if !ok {
			continue
		}
		field, ok := strings.CutSuffix(rest, "]")
		if !ok || field == "" || strings.ContainsAny(field, "[]") {
			continue
		}
		if idx == "" {
			if n := len(out); n == 0 || hasKey(out[n-1], field) {
				out = append(out, map[string]string{})
			}
			out[len(out)-1][field] = kv.value
			continue
		}
		h, seen := indexed[idx]
		if !seen {
			h = map[string]string{}
			indexed[idx] = h
			out = append(out, h)
		}
		h[field] = kv.value
	}
	return out
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// boolean casts a parameter the way ActiveModel does: absent or blank is
// nil, a few spellings of false are false, anything else is true.
func (p *params) boolean(name string) *bool {
	v, ok := p.value(name)
	if !ok || v == "" {
		return nil
	}
	b := true
	switch v {
	case "0", "f", "F", "false", "FALSE", "off", "OFF":
		b = false
	}
	return &b
}
