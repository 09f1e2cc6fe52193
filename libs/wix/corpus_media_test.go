package wix

import (
	"fmt"
	"testing"

	"gallerysync.dev/libs/wix/wixtest"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

const (
	fileA       = "033c14_581d63228a0346aaa42768dd15e74016~mv2.jpg"
	externalID  = "mastodon:109876543210"
	fileReadyET = "wix.media.site_media.v1.file_descriptor_file_ready"
	fileFailET  = "wix.media.site_media.v1.file_descriptor_file_failed"
)

func wantMedia(eventID string, kind gsv1.ChangeKind, media *gsv1.MediaFile, id *gsv1.Identity) *gsv1.ChangeEvent {
	ev := wantEvent(eventID, kind, "", nil, id)
	ev.Media = media
	return ev
}

// readyFile is the MediaFile of wixtest.File(fileA, "harbour.jpg", 1536, 2048)
// imported with externalID.
func readyFile() *gsv1.MediaFile {
	return &gsv1.MediaFile{
		FileId:          fileA,
		OperationStatus: "READY",
		Url:             "https://static.wixstatic.com/media/" + fileA,
		MimeType:        "image/jpeg",
		Width:           1536,
		Height:          2048,
		ExternalIds:     []string{externalID},
	}
}

// mediaCorpus holds the Media Manager File Ready and File Failed events.
func mediaCorpus(t testing.TB) []corpusCase {
	t.Helper()
	at := testEventTime()
	readyBody := func() map[string]any {
		return map[string]any{
			"file":                wixtest.File(fileA, "harbour.jpg", 1536, 2048),
			"externalInfo":        wixtest.ExternalInfo(appID, externalID),
			"triggeredByUndelete": false,
		}
	}
	failedBody := func() map[string]any {
		return map[string]any{"externalInfo": wixtest.ExternalInfo(appID, externalID)}
	}
	ready, failed := gsv1.ChangeKind_CHANGE_KIND_MEDIA_READY, gsv1.ChangeKind_CHANGE_KIND_MEDIA_FAILED

	var cases []corpusCase
	for i, v := range []struct {
		key      string
		asString bool
	}{{"body", false}, {"body", true}, {"bodyAsJson", false}, {"bodyAsJson", true}} {
		suffix := v.key
		if v.asString {
			suffix += " as string"
		}
		identity, idProto := ourApp(), appProto()
		if i%2 == 1 {
			identity, idProto = wixUser(), wixUserProto()
		}
		id := fmt.Sprintf("ev-file-ready-%d", i)
		cases = append(cases, corpusCase{
			name:    "file ready, " + suffix,
			hook:    webhook(fileReadyET, withAction(t, wixtest.FileEvent(SlugFileReady, id, fileA, at, nil), v.key, readyBody(), v.asString), identity),
			want:    wantMedia(id, ready, readyFile(), idProto),
			subject: mediaSubject,
		})
		id = fmt.Sprintf("ev-file-failed-%d", i)
		cases = append(cases, corpusCase{
			name:    "file failed, " + suffix,
			hook:    webhook(fileFailET, withAction(t, wixtest.FileEvent(SlugFileFailed, id, fileA, at, nil), v.key, failedBody(), v.asString), identity),
			want:    wantMedia(id, failed, &gsv1.MediaFile{FileId: fileA, OperationStatus: "FAILED", ExternalIds: []string{externalID}}, idProto),
			subject: mediaSubject,
		})
	}

	noEntityID := wixtest.FileEvent(SlugFileReady, "ev-file-no-entity", "", at, readyBody())
	noExternal := readyBody()
	delete(noExternal, "externalInfo")
	wantNoExternal := readyFile()
	wantNoExternal.ExternalIds = nil
	noFile := map[string]any{"externalInfo": wixtest.ExternalInfo(appID, externalID)}
	failedNoID := wixtest.FileEvent(SlugFileFailed, "ev-file-failed-no-id", "", at, failedBody())
	manyIDs := make([]string, maxExternalIDs+1)
	for i := range manyIDs {
		manyIDs[i] = fmt.Sprintf("mastodon:%d", i)
	}
	tooMany := map[string]any{"file": wixtest.File(fileA, "harbour.jpg", 1536, 2048), "externalInfo": wixtest.ExternalInfo(appID, manyIDs...)}
	badWidth := readyBody()
	badWidth["file"].(map[string]any)["media"].(map[string]any)["image"].(map[string]any)["image"].(map[string]any)["width"] = -3
	updated := wixtest.FileEvent("updated", "ev-file-updated", fileA, at, nil)
	delete(updated, "actionEvent")
	updated["updatedEvent"] = map[string]any{"currentEntity": wixtest.File(fileA, "harbour.jpg", 1536, 2048)}
	folder := wixtest.FileEvent("created", "ev-folder", "folder-1", at, nil)
	folder["entityFqdn"] = "wix.media.site_media.v1.folder"
	noTime := wixtest.FileEvent(SlugFileReady, "ev-file-no-time", fileA, at, readyBody())
	delete(noTime, "eventTime")

	return append(cases,
		corpusCase{
			name:    "file ready without entityId takes the file's id",
			hook:    webhook(fileReadyET, noEntityID, ourApp()),
			want:    wantMedia("ev-file-no-entity", ready, readyFile(), appProto()),
			subject: mediaSubject,
		},
		corpusCase{
			name:    "file ready of a file imported without externalInfo",
			hook:    webhook(fileReadyET, wixtest.FileEvent(SlugFileReady, "ev-file-no-external", fileA, at, noExternal), wixUser()),
			want:    wantMedia("ev-file-no-external", ready, wantNoExternal, wixUserProto()),
			subject: mediaSubject,
		},
		corpusCase{
			name:    "file ready without the file",
			hook:    webhook(fileReadyET, wixtest.FileEvent(SlugFileReady, "ev-file-no-file", fileA, at, noFile), ourApp()),
			want:    wantMedia("ev-file-no-file", ready, &gsv1.MediaFile{FileId: fileA, OperationStatus: "READY", ExternalIds: []string{externalID}}, appProto()),
			subject: mediaSubject,
		},
		corpusCase{name: "file failed naming no file", hook: webhook(fileFailET, failedNoID, ourApp()), err: ErrMalformed},
		corpusCase{name: "file ready with too many external ids", hook: webhook(fileReadyET, wixtest.FileEvent(SlugFileReady, "ev-file-many", fileA, at, tooMany), ourApp()), err: ErrMalformed},
		corpusCase{name: "file ready with a negative width", hook: webhook(fileReadyET, wixtest.FileEvent(SlugFileReady, "ev-file-width", fileA, at, badWidth), ourApp()), err: ErrMalformed},
		corpusCase{name: "file ready without eventTime", hook: webhook(fileReadyET, noTime, ourApp()), err: ErrMalformed},
		corpusCase{name: "file descriptor updated", hook: webhook("wix.media.site_media.v1.file_descriptor_updated", updated, wixUser()), err: ErrUnsupported},
		corpusCase{name: "folder created", hook: webhook("wix.media.site_media.v1.folder_created", folder, wixUser()), err: ErrUnsupported},
	)
}
