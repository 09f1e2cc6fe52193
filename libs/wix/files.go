package wix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// mediaPrefix is the Media Manager API path (wix-api.md 3.1).
const mediaPrefix = "/site-media/v1"

// OperationStatus is how far Wix got with a file.
type OperationStatus string

// The operation statuses of a Media Manager file.
const (
	StatusPending OperationStatus = "PENDING"
	StatusReady   OperationStatus = "READY"
	StatusFailed  OperationStatus = "FAILED"
)

// FileDescriptor is a Media Manager file (wix-api.md 3.2). Media is only
// filled once the file is READY; an import answers PENDING without it.
type FileDescriptor struct {
	ID             string `json:"id"`
	DisplayName    string `json:"displayName,omitempty"`
	URL            string `json:"url,omitempty"`
	ParentFolderID string `json:"parentFolderId,omitempty"`
	Hash           string `json:"hash,omitempty"`
	SizeInBytes    int64  `json:"sizeInBytes,omitempty,string"`
	Private        bool   `json:"private,omitempty"`
	// MediaType is e.g. "IMAGE", "VIDEO" or "DOCUMENT".
	MediaType       string          `json:"mediaType,omitempty"`
	Media           *FileMedia      `json:"media,omitempty"`
	OperationStatus OperationStatus `json:"operationStatus,omitempty"`
	SourceURL       string          `json:"sourceUrl,omitempty"`
	ThumbnailURL    string          `json:"thumbnailUrl,omitempty"`
	Labels          []string        `json:"labels,omitempty"`
	CreatedDate     time.Time       `json:"createdDate,omitzero"`
	UpdatedDate     time.Time       `json:"updatedDate,omitzero"`
	SiteID          string          `json:"siteId,omitempty"`
	// State is "OK" or "DELETED".
	State string `json:"state,omitempty"`
}

// UnmarshalJSON accepts the size as a string (how Wix sends int64) or a
// number, empty dates, and a url sent as a list (seen in Wix's samples).
func (f *FileDescriptor) UnmarshalJSON(b []byte) error {
	type plain FileDescriptor
	w := struct {
		*plain
		URL         flexString `json:"url"`
		SizeInBytes flexInt64  `json:"sizeInBytes"`
		CreatedDate flexTime   `json:"createdDate"`
		UpdatedDate flexTime   `json:"updatedDate"`
	}{plain: (*plain)(f)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	f.URL, f.SizeInBytes = string(w.URL), int64(w.SizeInBytes)
	f.CreatedDate, f.UpdatedDate = time.Time(w.CreatedDate), time.Time(w.UpdatedDate)
	return nil
}

// FileMedia is what a file holds; one field is set, by media type.
type FileMedia struct {
	Image  *ImageMedia `json:"image,omitempty"`
	Video  *VideoInfo  `json:"video,omitempty"`
	Vector *ImageMedia `json:"vector,omitempty"`
}

// ImageMedia is an image file's media: the image with its size.
type ImageMedia struct {
	Image        *ImageInfo `json:"image,omitempty"`
	PreviewImage *ImageInfo `json:"previewImage,omitempty"`
}

// ImportRequest asks Wix to fetch a file from a URL into the Media Manager.
type ImportRequest struct {
	// URL is where Wix fetches the file; it must be public.
	URL string
	// MimeType, or an extension in DisplayName or URL, tells Wix what the
	// file is when the source does not answer HEAD requests.
	MimeType    string
	DisplayName string
	// ExternalIDs travel with the file and come back in the File Ready and
	// File Failed events, e.g. the platform's media id.
	ExternalIDs []string
}

type wireImport struct {
	URL          string       `json:"url"`
	MimeType     string       `json:"mimeType,omitempty"`
	DisplayName  string       `json:"displayName,omitempty"`
	ExternalInfo externalInfo `json:"externalInfo"`
}

type externalInfo struct {
	Origin      string   `json:"origin"`
	ExternalIDs []string `json:"externalIds"`
}

type wireFile struct {
	File FileDescriptor `json:"file"`
}

// ImportFile starts importing a file; it comes back PENDING (see
// WaitReady). The import names the app as its origin. It is retried only
// when it surely did not take effect, since a repeat makes a second file.
func (c *Client) ImportFile(ctx context.Context, instanceID string, r ImportRequest) (FileDescriptor, error) {
	if err := checkIDs(idArg{"instance id", instanceID}); err != nil {
		return FileDescriptor{}, fmt.Errorf("import file: %w", err)
	}
	if u, err := url.Parse(r.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return FileDescriptor{}, fmt.Errorf("import file: %w: url %q is not an absolute http(s) URL", ErrInvalidRequest, r.URL)
	}
	if len(r.URL) > MaxURLBytes {
		return FileDescriptor{}, fmt.Errorf("import file: %w: url is %d bytes, limit %d", ErrInvalidRequest, len(r.URL), MaxURLBytes)
	}
	ids := r.ExternalIDs
	if ids == nil {
		ids = []string{}
	}
	var w wireFile
	err := c.do(ctx, instanceID, request{
		method: http.MethodPost,
		url:    c.base + mediaPrefix + "/files/import",
		path:   mediaPrefix + "/files/import",
		body: wireImport{
			URL:          r.URL,
			MimeType:     r.MimeType,
			DisplayName:  r.DisplayName,
			ExternalInfo: externalInfo{Origin: c.cfg.AppID, ExternalIDs: ids},
		},
	}, &w)
	if err != nil {
		return FileDescriptor{}, fmt.Errorf("import file: %w", err)
	}
	if w.File.ID == "" {
		return FileDescriptor{}, fmt.Errorf("import file: %w", errors.New("answer names no file id"))
	}
	return w.File, nil
}

// GetFile returns a file's descriptor.
func (c *Client) GetFile(ctx context.Context, instanceID, fileID string) (FileDescriptor, error) {
	if err := checkIDs(idArg{"instance id", instanceID}, idArg{"file id", fileID}); err != nil {
		return FileDescriptor{}, fmt.Errorf("get file %s: %w", fileID, err)
	}
	var w wireFile
	err := c.do(ctx, instanceID, request{
		method:     http.MethodGet,
		url:        c.base + mediaPrefix + "/files/" + url.PathEscape(fileID),
		path:       mediaPrefix + "/files/" + fileID,
		idempotent: true,
	}, &w)
	if err != nil {
		return FileDescriptor{}, fmt.Errorf("get file %s: %w", fileID, err)
	}
	return w.File, nil
}

type wireFileIDs struct {
	FileIDs []string `json:"fileIds"`
}

type wireFiles struct {
	Files []FileDescriptor `json:"files"`
}

// GetFiles returns the descriptors of several files in one call.
func (c *Client) GetFiles(ctx context.Context, instanceID string, fileIDs []string) ([]FileDescriptor, error) {
	if err := checkIDs(idArg{"instance id", instanceID}); err != nil {
		return nil, fmt.Errorf("get files: %w", err)
	}
	for _, id := range fileIDs {
		if err := checkIDs(idArg{"file id", id}); err != nil {
			return nil, fmt.Errorf("get files: %w", err)
		}
	}
	if len(fileIDs) == 0 {
		return nil, nil
	}
	var w wireFiles
	err := c.do(ctx, instanceID, request{
		method:     http.MethodPost,
		url:        c.base + mediaPrefix + "/files/get-files",
		path:       mediaPrefix + "/files/get-files",
		body:       wireFileIDs{FileIDs: fileIDs},
		idempotent: true,
	}, &w)
	if err != nil {
		return nil, fmt.Errorf("get files: %w", err)
	}
	return w.Files, nil
}

// ImageInfoOf builds the image.imageInfo of a gallery item from a ready
// image file: id, size and file name from media.image.image, falling back
// to the descriptor's own id and display name.
func ImageInfoOf(fd FileDescriptor, altText string) ImageInfo {
	info := ImageInfo{ID: fd.ID, Filename: fd.DisplayName, AltText: altText}
	var img *ImageInfo
	if m := fd.Media; m != nil {
		switch {
		case m.Image != nil && m.Image.Image != nil:
			img = m.Image.Image
		case m.Vector != nil && m.Vector.Image != nil:
			img = m.Vector.Image
		}
	}
	if img != nil {
		if img.ID != "" {
			info.ID = img.ID
		}
		if img.Filename != "" {
			info.Filename = img.Filename
		}
		info.Width, info.Height = img.Width, img.Height
	}
	return info
}

// flexString is a string that may come as a list of strings (the first
// counts) or null.
type flexString string

// UnmarshalJSON accepts "a", ["a", ...] and null.
func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '[':
		var list []string
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		*s = ""
		if len(list) > 0 {
			*s = flexString(list[0])
		}
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = flexString(v)
	return nil
}

// flexInt64 is a non-negative int64 sent as a numeric string or a number.
type flexInt64 int64

// UnmarshalJSON accepts "46489", 46489 and null.
func (n *flexInt64) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			return nil
		}
		b = []byte(s)
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("size %q: want a non-negative integer", b)
	}
	*n = flexInt64(v)
	return nil
}
