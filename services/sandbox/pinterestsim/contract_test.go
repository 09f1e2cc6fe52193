package pinterestsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// specServer is the server URL of Pinterest's OpenAPI description; requests
// are matched against it whatever host the emulator listens on.
const specServer = "https://api.pinterest.com/v5"

// contract is Pinterest's published OpenAPI description with a router.
type contract struct {
	doc    *openapi3.T
	router routers.Router
}

func loadContract(t *testing.T) *contract {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("testdata/openapi-v5.yaml")
	if err != nil {
		t.Fatalf("load the OpenAPI description: %v", err)
	}
	// Elsewhere in the document some examples do not match their own
	// formats and a username pattern (checked on its default too) uses a
	// look-ahead Go's regexp lacks; neither is in the operations emulated
	// here, whose patterns are still checked on every message.
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation(),
		openapi3.DisableSchemaPatternValidation(), openapi3.DisableSchemaDefaultsValidation()); err != nil {
		t.Fatalf("the OpenAPI description is invalid: %v", err)
	}
	if len(doc.Servers) == 0 || doc.Servers[0].URL != specServer {
		t.Fatalf("the OpenAPI description's server is not %s", specServer)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("route the OpenAPI description: %v", err)
	}
	return &contract{doc: doc, router: router}
}

// checker validates traffic against the contract: every request (unless
// requestsUnchecked) and every answer of the emulator. A violation fails
// the test that owns it.
type checker struct {
	t    testing.TB
	spec *contract
	next http.RoundTripper
	// requestsUnchecked lets deliberately bad requests through, for tests of
	// the emulator's error answers; the answers are still checked.
	requestsUnchecked bool

	mu      sync.Mutex
	checked map[string]int // operationId -> answers checked
}

func newChecker(t testing.TB, spec *contract, next http.RoundTripper) *checker {
	return &checker{t: t, spec: spec, next: next, checked: map[string]int{}}
}

// RoundTrip implements http.RoundTripper.
func (c *checker) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	if strings.HasPrefix(req.URL.Path, "/_sandbox/") {
		return c.next.RoundTrip(req)
	}
	in, err := c.requestInput(req, body)
	if err != nil {
		c.t.Errorf("%s %s is not an operation of the Pinterest API: %v", req.Method, req.URL.Path, err)
		return c.next.RoundTrip(req)
	}
	if !c.requestsUnchecked {
		c.checkRequest(in, body)
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(answer))
	c.checkResponse(in, resp, answer)
	return resp, nil
}

// requestInput finds the operation of a request. The copy it validates
// has the spec's scheme and host.
func (c *checker) requestInput(req *http.Request, body []byte) (*openapi3filter.RequestValidationInput, error) {
	u, err := url.Parse(specServer)
	if err != nil {
		return nil, err
	}
	vreq := req.Clone(req.Context())
	vreq.URL.Scheme, vreq.URL.Host, vreq.Host = u.Scheme, u.Host, u.Host
	vreq.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := c.spec.router.FindRoute(vreq)
	if err != nil {
		return nil, err
	}
	return &openapi3filter.RequestValidationInput{
		Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{
			AuthenticationFunc:  bearerSent,
			MultiError:          true,
			SkipSettingDefaults: true,
		},
	}, nil
}

// bearerSent accepts any request with a bearer token: scopes are not
// emulated, and the emulator itself decides whether the token is valid.
func bearerSent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme, token, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return errors.New("no bearer token")
	}
	return nil
}

func (c *checker) checkRequest(in *openapi3filter.RequestValidationInput, body []byte) {
	op := in.Route.Operation
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		c.t.Errorf("request %s %s breaks the contract of %s: %v", in.Request.Method, in.Request.URL.Path, op.OperationID, err)
		return
	}
	if len(body) == 0 || op.RequestBody == nil {
		return
	}
	mt := op.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return
	}
	c.checkMembers("request", op.OperationID, mt.Schema, body)
}

func (c *checker) checkResponse(in *openapi3filter.RequestValidationInput, resp *http.Response, body []byte) {
	op := in.Route.Operation
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.t.Errorf("answer %d to %s %s breaks the contract of %s: %v\nbody: %s", resp.StatusCode,
			in.Request.Method, in.Request.URL.Path, op.OperationID, err, body)
		return
	}
	c.mu.Lock()
	c.checked[op.OperationID]++
	c.mu.Unlock()
	ref := op.Responses.Status(resp.StatusCode)
	if ref == nil {
		ref = op.Responses.Default()
	}
	if ref == nil || ref.Value == nil || len(body) == 0 {
		return
	}
	if mt := ref.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
		c.checkMembers(fmt.Sprintf("answer %d", resp.StatusCode), op.OperationID, mt.Schema, body)
	}
}

// checkMembers fails the test for every object member the schema does not
// declare: the published schemas allow additional properties, so schema
// validation alone would let a misspelt or invented field through.
func (c *checker) checkMembers(what, op string, schema *openapi3.SchemaRef, body []byte) {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		c.t.Errorf("%s of %s is not JSON: %v", what, op, err)
		return
	}
	if extra := undeclared([]*openapi3.SchemaRef{schema}, v, "$"); len(extra) > 0 {
		c.t.Errorf("%s of %s has members its schema does not declare: %s\nbody: %s", what, op, strings.Join(extra, ", "), body)
	}
}

// answered returns how many answers of each operation were checked.
func (c *checker) answered() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.checked))
	for k, v := range c.checked {
		out[k] = v
	}
	return out
}

// undeclared lists the paths of members of v that none of the schemas that
// apply to v declare. Schemas apply through allOf, through the oneOf or
// anyOf branch the discriminator (or, without one, validation) picks, and
// side by side when several schemas describe one value. A schema with no
// properties and no additionalProperties is free-form: it declares nothing
// and forbids nothing.
func undeclared(refs []*openapi3.SchemaRef, v any, path string) []string {
	var schemas []*openapi3.Schema
	for _, r := range refs {
		if r != nil && r.Value != nil {
			schemas = append(schemas, applicable(r, v)...)
		}
	}
	var out []string
	switch x := v.(type) {
	case map[string]any:
		var constrained []*openapi3.Schema
		open := false
		var extra []*openapi3.SchemaRef
		for _, s := range schemas {
			ap := s.AdditionalProperties
			if ap.Schema != nil {
				extra = append(extra, ap.Schema)
			}
			if (ap.Has != nil && *ap.Has) || ap.Schema != nil {
				open = true
			}
			if len(s.Properties) > 0 || ap.Has != nil || ap.Schema != nil {
				constrained = append(constrained, s)
			}
		}
		if len(constrained) == 0 {
			return nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			var subs []*openapi3.SchemaRef
			for _, s := range constrained {
				if p, ok := s.Properties[k]; ok {
					subs = append(subs, p)
				}
			}
			if len(subs) == 0 {
				if !open {
					out = append(out, path+"."+k)
					continue
				}
				subs = extra
			}
			out = append(out, undeclared(subs, x[k], path+"."+k)...)
		}
	case []any:
		var items []*openapi3.SchemaRef
		for _, s := range schemas {
			if s.Items != nil {
				items = append(items, s.Items)
			}
		}
		for i, it := range x {
			out = append(out, undeclared(items, it, fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return out
}

// applicable is the schema and every schema it brings in for v.
func applicable(ref *openapi3.SchemaRef, v any) []*openapi3.Schema {
	s := ref.Value
	out := []*openapi3.Schema{s}
	for _, sub := range s.AllOf {
		out = append(out, applicable(sub, v)...)
	}
	for _, branches := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf} {
		for _, b := range branches {
			if chosen(s, b, v) {
				out = append(out, applicable(b, v)...)
			}
		}
	}
	return out
}

// chosen reports whether the oneOf/anyOf branch b of s describes v.
func chosen(s *openapi3.Schema, b *openapi3.SchemaRef, v any) bool {
	if d := s.Discriminator; d != nil {
		obj, _ := v.(map[string]any)
		kind, _ := obj[d.PropertyName].(string)
		if m, ok := d.Mapping[kind]; ok {
			return m.Ref == b.Ref
		}
		return false
	}
	return b.Value != nil && b.Value.VisitJSON(v) == nil
}
