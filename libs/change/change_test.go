package change

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/types/known/timestamppb"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

func event(mut func(*gsv1.ChangeEvent)) *gsv1.ChangeEvent {
	ev := &gsv1.ChangeEvent{
		EventId:    "wix:e1",
		TenantId:   "t1",
		Origin:     gsv1.Origin_ORIGIN_WIX,
		Kind:       gsv1.ChangeKind_CHANGE_KIND_ITEM_UPDATED,
		OccurredAt: timestamppb.Now(),
		GalleryId:  "g1",
		Item:       &gsv1.ItemSnapshot{ItemId: "i1", Title: "a"},
	}
	if mut != nil {
		mut(ev)
	}
	return ev
}

func TestSubject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ev   *gsv1.ChangeEvent
		want string
	}{
		{"wix item", event(nil), "changes.wix.t1"},
		{"platform", event(func(e *gsv1.ChangeEvent) { e.Origin = gsv1.Origin_ORIGIN_PLATFORM; e.Platform = "mastodon" }), "changes.platform.mastodon.t1"},
		{"app removed", event(func(e *gsv1.ChangeEvent) { e.Kind = gsv1.ChangeKind_CHANGE_KIND_APP_REMOVED }), "changes.app.t1"},
		{"media ready", event(func(e *gsv1.ChangeEvent) { e.Kind = gsv1.ChangeKind_CHANGE_KIND_MEDIA_READY }), "changes.media.t1"},
		{"share work", event(func(e *gsv1.ChangeEvent) { e.ShareJobId = "j1"; e.LinkId = "l1"; e.Platform = "mastodon" }), "changes.share.mastodon.t1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Subject(tt.ev); got != tt.want {
				t.Fatalf("Subject = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ev      *gsv1.ChangeEvent
		wantErr bool
	}{
		{"ok", event(nil), false},
		{"no id", event(func(e *gsv1.ChangeEvent) { e.EventId = "" }), true},
		{"tenant with dot", event(func(e *gsv1.ChangeEvent) { e.TenantId = "a.b" }), true},
		{"tenant with wildcard", event(func(e *gsv1.ChangeEvent) { e.TenantId = "a*" }), true},
		{"no origin", event(func(e *gsv1.ChangeEvent) { e.Origin = gsv1.Origin_ORIGIN_UNSPECIFIED }), true},
		{"platform without name", event(func(e *gsv1.ChangeEvent) { e.Origin = gsv1.Origin_ORIGIN_PLATFORM }), true},
		{"no kind", event(func(e *gsv1.ChangeEvent) { e.Kind = gsv1.ChangeKind_CHANGE_KIND_UNSPECIFIED }), true},
		{"no time", event(func(e *gsv1.ChangeEvent) { e.OccurredAt = nil }), true},
		{"item without id", event(func(e *gsv1.ChangeEvent) { e.Item.ItemId = "" }), true},
		{"share without link", event(func(e *gsv1.ChangeEvent) { e.ShareJobId = "j1"; e.Platform = "mastodon" }), true},
		{"share without platform", event(func(e *gsv1.ChangeEvent) { e.ShareJobId = "j1"; e.LinkId = "l1" }), true},
		{"media without file", event(func(e *gsv1.ChangeEvent) { e.Kind = gsv1.ChangeKind_CHANGE_KIND_MEDIA_READY }), true},
		{"media with file", event(func(e *gsv1.ChangeEvent) {
			e.Kind = gsv1.ChangeKind_CHANGE_KIND_MEDIA_READY
			e.Media = &gsv1.MediaFile{FileId: "f1"}
		}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Validate(tt.ev)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestHash(t *testing.T) {
	t.Parallel()
	base := &gsv1.ItemSnapshot{Title: "a", Description: "b", LinkUrl: "l", MediaId: "m", SortOrder: 1}
	same := &gsv1.ItemSnapshot{Title: "a", Description: "b", LinkUrl: "l", MediaId: "m", SortOrder: 1, ItemId: "other", UpdatedAt: timestamppb.Now()}
	if Hash(base) != Hash(same) {
		t.Fatal("hash depends on fields that are not synced content")
	}
	for name, s := range map[string]*gsv1.ItemSnapshot{
		"title":       {Title: "a2", Description: "b", LinkUrl: "l", MediaId: "m", SortOrder: 1},
		"description": {Title: "a", Description: "b2", LinkUrl: "l", MediaId: "m", SortOrder: 1},
		"link":        {Title: "a", Description: "b", LinkUrl: "l2", MediaId: "m", SortOrder: 1},
		"media":       {Title: "a", Description: "b", LinkUrl: "l", MediaId: "m2", SortOrder: 1},
		"sort order":  {Title: "a", Description: "b", LinkUrl: "l", MediaId: "m", SortOrder: 2},
		"alt text":    {Title: "a", Description: "b", LinkUrl: "l", MediaId: "m", SortOrder: 1, AltText: "x"},
		"field shift": {Title: "ab", Description: "", LinkUrl: "l", MediaId: "m", SortOrder: 1},
	} {
		if Hash(s) == Hash(base) {
			t.Errorf("changing %s does not change the hash", name)
		}
	}
}
