package pinterestsim_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// recorder is a testing.TB that keeps the errors reported to it.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) reported() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errs, "\n")
}

// TestCheckerCatchesContractBreaks makes sure the checker the other tests
// rely on fails on what the contract forbids.
func TestCheckerCatchesContractBreaks(t *testing.T) {
	t.Parallel()
	spec := loadContract(t)
	const goodPin = `{"id":"1","title":"t","board_id":"2","media":{"media_type":"image","images":{"600x":{"url":"u","width":null,"height":null}}}}`
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		status int
		answer string
		want   string // "" when nothing must be reported
	}{
		{name: "a conforming exchange", method: "GET", path: "/v5/pins/1", status: 200, answer: goodPin},
		{name: "an answer member the schema lacks", method: "GET", path: "/v5/pins/1", status: 200,
			answer: strings.Replace(goodPin, `"title":"t"`, `"title":"t","note":"n"`, 1), want: "$.note"},
		{name: "a nested member the schema lacks", method: "GET", path: "/v5/pins/1", status: 200,
			answer: strings.Replace(goodPin, `"url":"u"`, `"url":"u","format":"png"`, 1), want: "$.media.images.600x.format"},
		{name: "a member of the wrong type", method: "GET", path: "/v5/pins/1", status: 200,
			answer: strings.Replace(goodPin, `"title":"t"`, `"title":5`, 1), want: "breaks the contract"},
		{name: "an id that is not decimal", method: "GET", path: "/v5/pins/1", status: 200,
			answer: strings.Replace(goodPin, `"id":"1"`, `"id":"x1"`, 1), want: "breaks the contract"},
		{name: "a listed pin with an undeclared member", method: "GET", path: "/v5/boards/2/pins", status: 200,
			answer: `{"items":[` + strings.Replace(goodPin, `"id":"1"`, `"id":"1","extra":true`, 1) + `],"bookmark":null}`, want: "$.items[0].extra"},
		{name: "an error without its code", method: "GET", path: "/v5/pins/1", status: 404,
			answer: `{"message":"Pin not found."}`, want: "breaks the contract"},
		{name: "a request member the schema lacks", method: "POST", path: "/v5/pins", status: 201, answer: goodPin,
			body: `{"board_id":"2","note":"x","media_source":{"source_type":"image_url","url":"https://e/x.png"}}`, want: "$.note"},
		{name: "a request breaking a limit", method: "POST", path: "/v5/pins", status: 201, answer: goodPin,
			body: `{"board_id":"2","title":"` + strings.Repeat("t", 101) + `","media_source":{"source_type":"image_url","url":"https://e/x.png"}}`,
			want: "breaks the contract"},
		{name: "a path outside the API", method: "GET", path: "/v5/nowhere", status: 404, answer: `{"code":404,"message":"x"}`, want: "not an operation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.answer)
			}))
			t.Cleanup(srv.Close)
			rec := &recorder{TB: t}
			client := &http.Client{Transport: newChecker(rec, spec, srv.Client().Transport)}
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer token")
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := rec.reported()
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("checker reported %q, want a report containing %q", got, tc.want)
			}
		})
	}
}
