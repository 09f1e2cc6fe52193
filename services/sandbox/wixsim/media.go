package wixsim

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // decode sizes of imported GIFs
	_ "image/jpeg" // decode sizes of imported JPEGs
	_ "image/png"  // decode sizes of imported PNGs
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Media Manager values used by the emulator.
const (
	statusReady   = "READY"
	statusFailed  = "FAILED"
	mediaImage    = "IMAGE"
	rootFolder    = "media-root"
	maxImportSize = 25 << 20
	importTimeout = 20 * time.Second
)

// mediaTypes is the documented MediaType enum.
var mediaTypes = []string{"UNKNOWN", "IMAGE", "VIDEO", "AUDIO", "DOCUMENT", "VECTOR", "ARCHIVE", "MODEL3D"}

// mediaFile is a stored Media Manager file with its bytes.
type mediaFile struct {
	instanceID  string
	desc        FileDescriptor
	data        []byte
	contentType string
	width       int
	height      int
}

// routeMedia registers the Media Manager endpoints and the static media URLs.
func (s *Server) routeMedia(mux *http.ServeMux) {
	mux.HandleFunc("POST /site-media/v1/files/import", s.api("ImportFile", s.importFile))
	mux.HandleFunc("GET /site-media/v1/files/get-file-by-id", s.api("GetFileDescriptor", s.getFileByQuery))
	mux.HandleFunc("GET /site-media/v1/files/{fileId}", s.api("GetFileDescriptor", s.getFile))
	mux.HandleFunc("POST /site-media/v1/files/get-files", s.api("GetFileDescriptors", s.getFiles))
	mux.HandleFunc("GET /media/{fileId}", s.serveMedia)
	mux.HandleFunc("GET /media/{fileId}/{transform...}", s.serveMedia)
}

type importRequest struct {
	URL            string            `json:"url"`
	MimeType       string            `json:"mimeType"`
	DisplayName    string            `json:"displayName"`
	MediaType      string            `json:"mediaType"`
	ParentFolderID string            `json:"parentFolderId"`
	Private        bool              `json:"private"`
	Labels         []string          `json:"labels"`
	ExternalInfo   *ExternalInfo     `json:"externalInfo"`
	URLParams      map[string]string `json:"urlParams"`
	URLHeaders     map[string]string `json:"urlHeaders"`
}

type fileResponse struct {
	File FileDescriptor `json:"file"`
}

// importFile is POST /site-media/v1/files/import. The emulator imports at
// once: the answer is READY with the image size, or FAILED when the URL
// cannot be fetched or is not an image.
func (s *Server) importFile(w http.ResponseWriter, r *http.Request, c caller) {
	var req importRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	src, err := validateImport(req)
	if err != nil {
		writeError(w, err)
		return
	}
	var f *mediaFile
	data, fetchErr := s.fetch(r.Context(), src, req.URLHeaders)
	if fetchErr == nil {
		f, fetchErr = s.imageFile(c.instanceID, data, req.DisplayName, src.Path)
	}
	if fetchErr != nil {
		s.log.Info("media import failed", "instance_id", c.instanceID, "url", src.Redacted(), "err", fetchErr)
		f = s.failedFile(c.instanceID, req.DisplayName, src.Path)
	}
	f.desc.SourceURL = req.URL
	f.desc.Private = req.Private
	if req.ParentFolderID != "" {
		f.desc.ParentFolderID = req.ParentFolderID
	}
	if req.Labels != nil {
		f.desc.Labels = req.Labels
	}
	if err := s.storeFile(f); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, fileResponse{File: f.desc})
}

// validateImport checks an import request and returns the URL to fetch.
func validateImport(req importRequest) (*url.URL, error) {
	var v []FieldViolation
	var src *url.URL
	if req.URL == "" {
		v = append(v, violation("url", "REQUIRED_FIELD", "must not be empty"))
	} else {
		u, err := url.Parse(req.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v = append(v, violation("url", "FORMAT", "must be an absolute http or https URL"))
		} else {
			src = u
		}
	}
	switch {
	case req.MediaType == "" || req.MediaType == mediaImage:
	case !oneOf(req.MediaType, mediaTypes...):
		v = append(v, violation("mediaType", "FORMAT", "must be one of "+strings.Join(mediaTypes, ", ")))
	default:
		v = append(v, violation("mediaType", "CUSTOM", "this emulator imports images only"))
	}
	if len(v) > 0 {
		return nil, invalid(v...)
	}
	if len(req.URLParams) > 0 {
		q := src.Query()
		for k, val := range req.URLParams {
			q.Set(k, val)
		}
		src.RawQuery = q.Encode()
	}
	return src, nil
}

// errTooLarge is a source file over the import size cap.
var errTooLarge = errors.New("file exceeds the import size limit")

// fetch downloads an import source, at most maxImportSize bytes.
func (s *Server) fetch(ctx context.Context, src *url.URL, headers map[string]string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, importTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get source: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get source: status %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxImportSize+1))
	if err != nil {
		return nil, fmt.Errorf("read source: %w", err)
	}
	if len(data) > maxImportSize {
		return nil, errTooLarge
	}
	return data, nil
}

// imageFile makes a READY file from image bytes; its id is random.
func (s *Server) imageFile(instanceID string, data []byte, displayName, srcPath string) (*mediaFile, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode image: %w", err)
	}
	prefix, err := s.filePrefix(instanceID)
	if err != nil {
		return nil, err
	}
	ext := map[string]string{"png": "png", "jpeg": "jpg", "gif": "gif"}[format]
	id := prefix + "_" + randomHex(16) + "~mv2." + ext
	return s.readyFile(instanceID, id, data, "image/"+format, cfg.Width, cfg.Height, fileName(displayName, srcPath, id, ext)), nil
}

// readyFile builds the descriptor of a READY image file.
func (s *Server) readyFile(instanceID, id string, data []byte, contentType string, width, height int, name string) *mediaFile {
	now := timestamp(s.now())
	sum := md5.Sum(data)
	size := strconv.Itoa(len(data))
	u := s.mediaURL(id)
	return &mediaFile{
		instanceID:  instanceID,
		data:        data,
		contentType: contentType,
		width:       width,
		height:      height,
		desc: FileDescriptor{
			ID:              id,
			DisplayName:     name,
			URL:             u,
			ParentFolderID:  rootFolder,
			Hash:            hex.EncodeToString(sum[:]),
			SizeInBytes:     size,
			MediaType:       mediaImage,
			Media:           &FileMedia{Image: &ImageMedia{Image: MediaImage{ID: id, URL: u, Height: height, Width: width, Filename: name, SizeInBytes: size}}},
			OperationStatus: statusReady,
			ThumbnailURL:    u,
			Labels:          []string{},
			CreatedDate:     now,
			UpdatedDate:     now,
			State:           "OK",
		},
	}
}

// failedFile is what an import that could not be processed leaves behind.
func (s *Server) failedFile(instanceID, displayName, srcPath string) *mediaFile {
	now := timestamp(s.now())
	prefix, _ := s.filePrefix(instanceID)
	id := prefix + "_" + randomHex(16)
	return &mediaFile{
		instanceID: instanceID,
		desc: FileDescriptor{
			ID:              id,
			DisplayName:     fileName(displayName, srcPath, id, ""),
			URL:             s.mediaURL(id),
			ParentFolderID:  rootFolder,
			SizeInBytes:     "0",
			MediaType:       mediaImage,
			OperationStatus: statusFailed,
			Labels:          []string{},
			CreatedDate:     now,
			UpdatedDate:     now,
			State:           "OK",
		},
	}
}

// fileName picks the display name: the given one, else the source file's
// name, else the id; Wix adds the extension when the name has none.
func fileName(displayName, srcPath, id, ext string) string {
	name := displayName
	if name == "" {
		name = path.Base(srcPath)
	}
	if name == "" || name == "/" || name == "." {
		name = id
	}
	if ext != "" && path.Ext(name) == "" {
		name += "." + ext
	}
	return name
}

// filePrefix is the site's Media Manager id prefix.
func (s *Server) filePrefix(instanceID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.sites[instanceID]
	if !ok {
		return "", siteNotFound(instanceID)
	}
	return st.filePrefix, nil
}

// storeFile adds a file; the site must exist and the id must be new.
func (s *Server) storeFile(f *mediaFile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.sites[f.instanceID]
	if !ok {
		return siteNotFound(f.instanceID)
	}
	f.desc.SiteID = st.siteID
	if _, taken := s.files[f.desc.ID]; taken {
		return appError(http.StatusConflict, ErrConflict, "FILE_ALREADY_EXISTS", "file "+f.desc.ID+" already exists")
	}
	s.files[f.desc.ID] = f
	return nil
}

// lookupFile returns a file of the site; other sites' files are not found.
func (s *Server) lookupFile(instanceID, id string) (FileDescriptor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[id]
	if !ok || f.instanceID != instanceID {
		return FileDescriptor{}, fileNotFound(id)
	}
	return f.desc, nil
}

func (s *Server) getFile(w http.ResponseWriter, r *http.Request, c caller) {
	s.writeFile(w, c, r.PathValue("fileId"))
}

func (s *Server) getFileByQuery(w http.ResponseWriter, r *http.Request, c caller) {
	id := r.URL.Query().Get("fileId")
	if id == "" {
		writeError(w, invalid(violation("fileId", "REQUIRED_FIELD", "must not be empty")))
		return
	}
	s.writeFile(w, c, id)
}

func (s *Server) writeFile(w http.ResponseWriter, c caller, id string) {
	f, err := s.lookupFile(c.instanceID, id)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, fileResponse{File: f})
}

type getFilesRequest struct {
	FileIDs []string `json:"fileIds"`
}

type filesResponse struct {
	Files []FileDescriptor `json:"files"`
}

func (s *Server) getFiles(w http.ResponseWriter, r *http.Request, c caller) {
	var req getFilesRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	if len(req.FileIDs) == 0 {
		writeError(w, invalid(violation("fileIds", "REQUIRED_FIELD", "must not be empty")))
		return
	}
	resp := filesResponse{Files: make([]FileDescriptor, 0, len(req.FileIDs))}
	for _, id := range req.FileIDs {
		f, err := s.lookupFile(c.instanceID, id)
		if err != nil {
			writeError(w, err)
			return
		}
		resp.Files = append(resp.Files, f)
	}
	writeJSON(w, http.StatusOK, resp)
}

// serveMedia is the static media host: no auth, like static.wixstatic.com.
// Any transform path after the id serves the original bytes.
func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("fileId")
	s.mu.Lock()
	f, ok := s.files[id]
	s.mu.Unlock()
	if !ok || f.data == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("ETag", `"`+f.desc.Hash+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.data))
}
