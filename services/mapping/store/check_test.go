package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

func TestCheckID(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		id    string
		valid bool
	}{
		{"plain", "3f1c2a9e-7d1b-4f7e-9c55-1f0c8e2b7a10", true},
		{"separators and braces", "a:b{c}%d/e", true},
		{"non-ASCII", "élan-ギャラリー", true},
		{"longest allowed", strings.Repeat("x", MaxIDLen), true},
		{"empty", "", false},
		{"one byte too long", strings.Repeat("x", MaxIDLen+1), false},
		{"NUL", "a\x00", false},
		{"tab", "a\tb", false},
		{"DEL", "a\x7f", false},
		{"C1 control", "a\u0085", false},
		{"invalid UTF-8", "a\xffb", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := CheckID("link_id", c.id)
			if c.valid && err != nil {
				t.Fatalf("CheckID(%q) = %v, want nil", c.id, err)
			}
			if !c.valid && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "link_id")) {
				t.Fatalf("CheckID(%q) = %v, want an ErrInvalid naming link_id", c.id, err)
			}
		})
	}
}

func TestPageToken(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"w1", "a:b{c}", "élan", strings.Repeat("z", MaxIDLen)} {
		got, err := ParsePageToken(PageToken(id))
		if err != nil || got != id {
			t.Fatalf("token of %q parses to %q, %v", id, got, err)
		}
	}
	for _, bad := range []string{"w1", "!!!", PageToken("")} {
		if _, err := ParsePageToken(bad); !errors.Is(err, ErrInvalid) {
			t.Fatalf("ParsePageToken(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	sizes := []struct{ in, want int }{{0, DefaultPageSize}, {1, 1}, {MaxPageSize, MaxPageSize}, {MaxPageSize + 1, MaxPageSize}}
	for _, s := range sizes {
		if got, err := PageSize(s.in); err != nil || got != s.want {
			t.Fatalf("PageSize(%d) = %d, %v; want %d", s.in, got, err, s.want)
		}
	}
	if _, err := PageSize(-1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("PageSize(-1) = %v, want ErrInvalid", err)
	}
	if err := CheckTTL(time.Millisecond - 1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("CheckTTL below a millisecond = %v, want ErrInvalid", err)
	}
}

func TestCheckIntent(t *testing.T) {
	t.Parallel()
	intent := func(mod func(*gsv1.Intent)) *gsv1.Intent {
		in := &gsv1.Intent{TenantId: "t", Key: "wix-create:l1:e1", Attrs: map[string]string{"url": "https://example.com/a?b=c"}}
		mod(in)
		return in
	}
	manyAttrs := map[string]string{}
	for i := range MaxAttrs + 1 {
		manyAttrs[fmt.Sprintf("a%d", i)] = "v"
	}
	cases := []struct {
		name string
		in   *gsv1.Intent
		want string // "" when valid
	}{
		{"plain", intent(func(*gsv1.Intent) {}), ""},
		{"only tenant and key", &gsv1.Intent{TenantId: "t", Key: "k"}, ""},
		{"longest key", intent(func(in *gsv1.Intent) { in.Key = strings.Repeat("k", MaxKeyLen) }), ""},
		{"longest attr value", intent(func(in *gsv1.Intent) { in.Attrs["v"] = strings.Repeat("é", MaxAttrValueLen/2) }), ""},
		{"missing", nil, "intent: missing"},
		{"no key", intent(func(in *gsv1.Intent) { in.Key = "" }), "key: must not be empty"},
		{"key too long", intent(func(in *gsv1.Intent) { in.Key = strings.Repeat("k", MaxKeyLen+1) }), "key: 1025 bytes"},
		{"link id with newline", intent(func(in *gsv1.Intent) { in.LinkId = "l\n" }), "link_id: control character"},
		{"empty attr name", intent(func(in *gsv1.Intent) { in.Attrs[""] = "v" }), "attrs name: must not be empty"},
		{"attr value too long", intent(func(in *gsv1.Intent) { in.Attrs["v"] = strings.Repeat("x", MaxAttrValueLen+1) }), "attrs[v]: 4097 bytes"},
		{"attr value not UTF-8", intent(func(in *gsv1.Intent) { in.Attrs["v"] = "\xc3" }), "attrs[v]: not valid UTF-8"},
		{"too many attrs", intent(func(in *gsv1.Intent) { in.Attrs = manyAttrs }), "attrs: 65 entries"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := CheckIntent(c.in)
			if c.want == "" {
				if err != nil {
					t.Fatalf("CheckIntent = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("CheckIntent = %v, want an ErrInvalid saying %q", err, c.want)
			}
		})
	}
}
