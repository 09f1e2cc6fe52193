package storetest

import (
	"strings"
	"testing"

	"gallerysync.dev/services/mapping/store"
)

func testCursor(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	longest := strings.Repeat("é", store.MaxCursorLen/2) // multi-byte text, exactly at the limit
	steps := []struct {
		name, key, value string
	}{
		{"create", "watch:c1", "110234567890123456"},
		{"replace", "watch:c1", "110234567890123999"},
		{"another key", "watch:c1:", `{"since_id":"1","max_id":"9"}` + "\n"},
		{"empty value", "watch:c2", ""},
		{"longest value", "watch:c3", longest},
		{"longest key", strings.Repeat("k", store.MaxKeyLen), "v"},
		{"key with braces", "watch:{c4}%", "v4"},
	}
	stored := map[string]string{}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			must(t, "put cursor", s.PutCursor(ctx, tenant, st.key, st.value))
			stored[st.key] = st.value
			for key, want := range stored {
				got, err := s.GetCursor(ctx, tenant, key)
				must(t, "get cursor", err)
				if got != want {
					t.Fatalf("cursor %.20q = %.40q, want %.40q", key, got, want)
				}
			}
		})
	}
	t.Run("absent", func(t *testing.T) {
		for _, key := range []string{"watch:c9", "watch:c", "watch"} {
			_, err := s.GetCursor(ctx, tenant, key)
			mustErr(t, "get cursor "+key, err, store.ErrNotFound)
		}
		_, err := s.GetCursor(ctx, tenant+"x", "watch:c1")
		mustErr(t, "get cursor of another tenant", err, store.ErrNotFound)
	})
	t.Run("refused writes change nothing", func(t *testing.T) {
		refused := []struct{ name, key, value string }{
			{"value too long", "watch:c1", longest + "x"},
			{"value not UTF-8", "watch:c1", "\xff"},
			{"new key, value too long", "watch:new", longest + "x"},
		}
		for _, r := range refused {
			mustErr(t, r.name, s.PutCursor(ctx, tenant, r.key, r.value), store.ErrInvalid)
		}
		got, err := s.GetCursor(ctx, tenant, "watch:c1")
		must(t, "get cursor", err)
		if got != stored["watch:c1"] {
			t.Fatalf("cursor after refused writes %q, want %q", got, stored["watch:c1"])
		}
		_, err = s.GetCursor(ctx, tenant, "watch:new")
		mustErr(t, "cursor of a refused first write", err, store.ErrNotFound)
	})
}
