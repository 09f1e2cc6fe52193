package store

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestScanToken(t *testing.T) {
	t.Parallel()
	positions := []LinkPosition{
		{"t1", "l1"},
		{"a:b{c}%", "élan"},
		{strings.Repeat("t", MaxIDLen), strings.Repeat("l", MaxIDLen)},
	}
	for _, p := range positions {
		got, err := ParseScanToken(ScanToken(p.TenantID, p.LinkID))
		if err != nil || got != p {
			t.Fatalf("token of %+v parses to %+v, %v", p, got, err)
		}
	}
	if got, err := ParseScanToken(""); err != nil || !got.Start() {
		t.Fatalf(`ParseScanToken("") = %+v, %v; want the start`, got, err)
	}
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	bad := []struct{ name, token string }{
		{"not base64", "!!!"},
		{"a ListItems token", PageToken("w1")},
		{"no separator", raw("s1:t1")},
		{"empty tenant", ScanToken("", "l1")},
		{"empty link", ScanToken("t1", "")},
		{"control character", ScanToken("t1", "l\x01")},
		{"tenant too long", ScanToken(strings.Repeat("t", MaxIDLen+1), "l1")},
		{"other version", raw("s2:t1\x00l1")},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			if got, err := ParseScanToken(b.token); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "page_token") {
				t.Fatalf("ParseScanToken = %+v, %v; want an ErrInvalid naming page_token", got, err)
			}
		})
	}
	if _, err := ParsePageToken(ScanToken("t1", "l1")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("ParsePageToken of a scan token = %v, want ErrInvalid", err)
	}
}

func TestCheckCursor(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, tenant, key, value string
		want                     string // "" when valid
	}{
		{"plain", "t", "watch:c1", "110", ""},
		{"empty value", "t", "watch:c1", "", ""},
		{"text with a newline", "t", "watch:c1", "{\n}", ""},
		{"longest value", "t", "watch:c1", strings.Repeat("é", MaxCursorLen/2), ""},
		{"longest key", "t", strings.Repeat("k", MaxKeyLen), "1", ""},
		{"no tenant", "", "watch:c1", "1", "tenant_id: must not be empty"},
		{"no key", "t", "", "1", "key: must not be empty"},
		{"key too long", "t", strings.Repeat("k", MaxKeyLen+1), "1", "key: 1025 bytes"},
		{"value too long", "t", "watch:c1", strings.Repeat("x", MaxCursorLen+1), "value: 4097 bytes, at most 4096"},
		{"value not UTF-8", "t", "watch:c1", "\xc3", "value: not valid UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := CheckCursor(c.tenant, c.key, c.value)
			if c.want == "" {
				if err != nil {
					t.Fatalf("CheckCursor = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("CheckCursor = %v, want an ErrInvalid saying %q", err, c.want)
			}
		})
	}
}
