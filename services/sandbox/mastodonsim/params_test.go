package mastodonsim

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func TestParamsHashes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		contentType string
		body        string
		want        []map[string]string
	}{
		{
			name:        "rack style, a repeated key starts a new hash",
			contentType: "application/x-www-form-urlencoded",
			body:        "media_attributes[][id]=1&media_attributes[][description]=a&media_attributes[][id]=2&media_attributes[][focus]=0,0",
			want:        []map[string]string{{"id": "1", "description": "a"}, {"id": "2", "focus": "0,0"}},
		},
		{
			name:        "indexed",
			contentType: "application/x-www-form-urlencoded",
			body:        "media_attributes[1][id]=2&media_attributes[0][id]=1&media_attributes[0][description]=a",
			want:        []map[string]string{{"id": "2"}, {"id": "1", "description": "a"}},
		},
		{
			name:        "json array of objects",
			contentType: "application/json",
			body:        `{"media_attributes":[{"description":"a","id":"1"},{"id":2}]}`,
			want:        []map[string]string{{"id": "1", "description": "a"}, {"id": "2"}},
		},
		{
			name:        "nothing",
			contentType: "application/x-www-form-urlencoded",
			body:        "status=x",
			want:        nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPut, "/api/v1/statuses/1", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", tc.contentType)
			p, err := readParams(httptest.NewRecorder(), r, maxFormBody)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.hashes("media_attributes"); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("hashes = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParamsBoolean(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query string
		want  *bool
	}{
		{query: "", want: nil},
		{query: "sensitive=", want: nil},
		{query: "sensitive=true", want: boolPtr(true)},
		{query: "sensitive=1", want: boolPtr(true)},
		{query: "sensitive=yes", want: boolPtr(true)},
		{query: "sensitive=false", want: boolPtr(false)},
		{query: "sensitive=0", want: boolPtr(false)},
		{query: "sensitive=off", want: boolPtr(false)},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(http.MethodGet, "/x?"+tc.query, nil)
		p, err := readParams(httptest.NewRecorder(), r, maxFormBody)
		if err != nil {
			t.Fatal(err)
		}
		got := p.boolean("sensitive")
		if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
			t.Errorf("%q: got %v, want %v", tc.query, got, tc.want)
		}
	}
}
