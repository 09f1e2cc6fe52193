package wix

import (
	"encoding/json"
	"fmt"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// The Media Manager file events (wix-api.md 3.3). A file imported with
// externalInfo names who asked for it only in these two events.
const (
	FqdnFileDescriptor = "wix.media.site_media.v1.file_descriptor"
	SlugFileReady      = "file_ready"
	SlugFileFailed     = "file_failed"
)

// Operation statuses of a Media Manager file.
const (
	OperationReady  = "READY"
	OperationFailed = "FAILED"
)

// maxExternalIDs bounds the externalIds one media event carries; an import
// names one or a few.
const maxExternalIDs = 100

// fileEventBody is the action body of File Ready ({file, externalInfo,
// triggeredByUndelete}) and File Failed ({externalInfo}).
type fileEventBody struct {
	File *struct {
		ID              string `json:"id"`
		DisplayName     string `json:"displayName"`
		URL             string `json:"url"`
		OperationStatus string `json:"operationStatus"`
		Media           *struct {
			Image *struct {
				Image *struct {
					ID       string  `json:"id"`
					URL      string  `json:"url"`
					Filename string  `json:"filename"`
					Width    flexInt `json:"width"`
					Height   flexInt `json:"height"`
				} `json:"image"`
			} `json:"image"`
		} `json:"media"`
	} `json:"file"`
	ExternalInfo *struct {
		ExternalIDs []string `json:"externalIds"`
	} `json:"externalInfo"`
}

// normalizeMedia maps File Ready and File Failed. entityId is the file id;
// on File Ready the file's own id stands in when it is absent.
func normalizeMedia(env *Envelope) (*gsv1.ChangeEvent, error) {
	ev := &env.Event
	var kind gsv1.ChangeKind
	var status string
	switch ev.Slug {
	case SlugFileReady:
		kind, status = gsv1.ChangeKind_CHANGE_KIND_MEDIA_READY, OperationReady
	case SlugFileFailed:
		kind, status = gsv1.ChangeKind_CHANGE_KIND_MEDIA_FAILED, OperationFailed
	default:
		return nil, unsupported(env)
	}
	at, err := eventTime(ev)
	if err != nil {
		return nil, err
	}
	var body fileEventBody
	if err := json.Unmarshal(ev.Body, &body); err != nil {
		return nil, fmt.Errorf("%w: event %s body: %w", ErrMalformed, ev.ID, err)
	}
	media := &gsv1.MediaFile{FileId: ev.EntityID, OperationStatus: status}
	if f := body.File; f != nil && kind == gsv1.ChangeKind_CHANGE_KIND_MEDIA_READY {
		if media.FileId == "" {
			media.FileId = f.ID
		}
		if f.OperationStatus != "" {
			media.OperationStatus = f.OperationStatus
		}
		media.Url = f.URL
		filename := ""
		if f.Media != nil && f.Media.Image != nil && f.Media.Image.Image != nil {
			img := f.Media.Image.Image
			media.Width, media.Height = int32(img.Width), int32(img.Height)
			filename = img.Filename
			if media.Url == "" {
				media.Url = img.URL
			}
		}
		media.MimeType = mimeType(filename, f.DisplayName, f.ID, media.GetUrl())
	}
	if x := body.ExternalInfo; x != nil {
		if len(x.ExternalIDs) > maxExternalIDs {
			return nil, fmt.Errorf("%w: event %s: %d external ids, limit %d", ErrMalformed, ev.ID, len(x.ExternalIDs), maxExternalIDs)
		}
		media.ExternalIds = x.ExternalIDs
	}
	fields := []field{
		{"file id", media.GetFileId(), MaxIDBytes},
		{"operation status", media.GetOperationStatus(), MaxIDBytes},
		{"file url", media.GetUrl(), MaxURLBytes},
	}
	for _, id := range media.GetExternalIds() {
		fields = append(fields, field{"external id", id, MaxIDBytes})
	}
	if err := checkFields(fields...); err != nil {
		return nil, fmt.Errorf("%w: event %s: %w", ErrMalformed, ev.ID, err)
	}
	out := newEvent(env, ev.ID, kind, at)
	out.Media = media
	return finish(out)
}
