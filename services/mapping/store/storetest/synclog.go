package storetest

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/mapping/store"
)

// logEntry is entry number n of a log; its detail is n, its item one of seven.
func logEntry(n int) *gsv1.LogEntry {
	return &gsv1.LogEntry{
		At:        timestamppb.New(time.Unix(1700000000+int64(n), 0)),
		WixItemId: fmt.Sprintf("w%d", n%7), ExternalId: fmt.Sprintf("e%d", n%7),
		Target: gsv1.Side_SIDE_PLATFORM, Action: "update", Detail: strconv.Itoa(n), EventId: "ev-" + strconv.Itoa(n),
	}
}

// details are the details of entries, in their order.
func details(entries []*gsv1.LogEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Detail)
	}
	return out
}

// wantDetails is the details of the entries numbered from down to to, those
// of item only when it is not empty, at most limit of them.
func wantDetails(from, to int, item string, limit int) []string {
	var out []string
	for n := from; n >= to && len(out) < limit; n-- {
		if item == "" || logEntry(n).WixItemId == item {
			out = append(out, strconv.Itoa(n))
		}
	}
	return out
}

func sameDetails(t *testing.T, what string, got []*gsv1.LogEntry, want []string) {
	t.Helper()
	g := details(got)
	if fmt.Sprint(g) != fmt.Sprint(want) {
		t.Fatalf("%s: %d entries %.200v, want %d: %.200v", what, len(g), g, len(want), want)
	}
}

func testSyncLog(t *testing.T, s store.Store) {
	ctx := t.Context()
	tenant := newTenant(t)
	for _, l := range []string{"l1", "l2"} {
		must(t, "put link", s.PutLink(ctx, newLink(tenant, l)))
	}
	appendN := func(t *testing.T, tenant, link string, from, to int) {
		t.Helper()
		for n := from; n <= to; n++ {
			must(t, "append log", s.AppendLog(ctx, tenant, link, logEntry(n)))
		}
	}

	t.Run("entries as written, newest first", func(t *testing.T) {
		sent := []*gsv1.LogEntry{
			logEntry(1),
			{WixItemId: "w9", Action: "create"}, // no time: the store sets it
			logEntry(3),
		}
		sent[2].At = timestamppb.New(time.Unix(1600000000, 0)) // appended last, though older
		for _, e := range sent {
			before := proto.Clone(e)
			must(t, "append log", s.AppendLog(ctx, tenant, "l1", e))
			mustEqual(t, "caller's entry after AppendLog", e, before)
		}
		got, err := s.ListLog(ctx, tenant, "l1", "", 0)
		must(t, "list log", err)
		if len(got) != 3 {
			t.Fatalf("log of 3 appends lists %d entries", len(got))
		}
		mustEqual(t, "newest entry", got[0], sent[2])
		mustEqual(t, "oldest entry", got[2], sent[0])
		aboutNow(t, "at of an entry sent without one", got[1].At)
		got[1].At = nil
		mustEqual(t, "entry sent without a time", got[1], sent[1])
	})

	// l2 gets more entries than a log keeps.
	const written = store.MaxLogEntries + 100
	appendN(t, tenant, "l2", 0, written-1)
	oldestKept := written - store.MaxLogEntries
	reads := []struct {
		name  string
		item  string
		limit int
		want  []string
	}{
		{"default limit", "", 0, wantDetails(written-1, oldestKept, "", store.DefaultLogLimit)},
		{"small limit", "", 3, wantDetails(written-1, oldestKept, "", 3)},
		{"whole log", "", store.MaxLogEntries, wantDetails(written-1, oldestKept, "", store.MaxLogEntries)},
		{"limit above the cap", "", 5000, wantDetails(written-1, oldestKept, "", store.MaxLogEntries)},
		{"one item", "w3", 10, wantDetails(written-1, oldestKept, "w3", 10)},
		{"one item, default limit", "w3", 0, wantDetails(written-1, oldestKept, "w3", store.DefaultLogLimit)},
		{"one item, whole log", "w3", store.MaxLogEntries, wantDetails(written-1, oldestKept, "w3", store.MaxLogEntries)},
		{"item without entries", "w9", 0, nil},
	}
	for _, r := range reads {
		t.Run(r.name, func(t *testing.T) {
			got, err := s.ListLog(ctx, tenant, "l2", r.item, r.limit)
			must(t, "list log", err)
			sameDetails(t, fmt.Sprintf("ListLog(item %q, limit %d)", r.item, r.limit), got, r.want)
			for _, e := range got {
				n, err := strconv.Atoi(e.Detail)
				must(t, "entry number", err)
				mustEqual(t, "entry "+e.Detail, e, logEntry(n))
			}
		})
	}
	t.Run("filter applies before the limit", func(t *testing.T) {
		got, err := s.ListLog(ctx, tenant, "l2", "w3", store.MaxLogEntries)
		must(t, "list log", err)
		if kept := len(wantDetails(written-1, oldestKept, "w3", written)); len(got) != kept || kept <= store.DefaultLogLimit {
			t.Fatalf("item w3 has %d entries in the log, %d listed; want all, more than a default page", kept, len(got))
		}
	})
	t.Run("capped log keeps taking entries", func(t *testing.T) {
		appendN(t, tenant, "l2", written, written+1)
		got, err := s.ListLog(ctx, tenant, "l2", "", store.MaxLogEntries)
		must(t, "list log", err)
		sameDetails(t, "log after two more appends", got, wantDetails(written+1, oldestKept+2, "", store.MaxLogEntries))
	})
	t.Run("links keep their own logs", func(t *testing.T) {
		got, err := s.ListLog(ctx, tenant, "l1", "", store.MaxLogEntries)
		must(t, "list log", err)
		if len(got) != 3 {
			t.Fatalf("log of l1 has %d entries after appends to l2, want its own 3", len(got))
		}
	})
	t.Run("absent link", func(t *testing.T) {
		mustErr(t, "append to the log of an absent link", s.AppendLog(ctx, tenant, "l9", logEntry(1)), store.ErrNotFound)
		got, err := s.ListLog(ctx, tenant, "l9", "", 0)
		must(t, "list log of an absent link", err)
		if len(got) != 0 {
			t.Fatalf("absent link lists %d entries", len(got))
		}
	})
	t.Run("tenants keep their own logs", func(t *testing.T) {
		other := tenant + "0"
		got, err := s.ListLog(ctx, other, "l1", "", 0)
		must(t, "list log of another tenant", err)
		if len(got) != 0 {
			t.Fatalf("another tenant's link l1 lists %d entries of this tenant's", len(got))
		}
		mustErr(t, "append to a link of another tenant", s.AppendLog(ctx, other, "l1", logEntry(1)), store.ErrNotFound)
		must(t, "put link", s.PutLink(ctx, newLink(other, "l1")))
		appendN(t, other, "l1", 500, 501)
		got, err = s.ListLog(ctx, other, "l1", "", 0)
		must(t, "list log of another tenant", err)
		sameDetails(t, "another tenant's log", got, []string{"501", "500"})
		mine, err := s.ListLog(ctx, tenant, "l1", "", 0)
		must(t, "list log", err)
		if len(mine) != 3 {
			t.Fatalf("log of l1 has %d entries after another tenant's appends, want its own 3", len(mine))
		}
	})
}
