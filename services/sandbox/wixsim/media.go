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
	statusPending = "PENDING"
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

// importFile is POST /site-media/v1/files/import. As on Wix the answer is
// the file PENDING, without media; the import worker fetches the source
// and makes the file READY (with the image size) or FAILED, and sends File
// Ready or File Failed.
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
	f, err := s.pendingFile(c.instanceID, req, src)
	if err != nil {
		writeError(w, err)
		return
	}
	if err := s.storeFile(f); err != nil {
		writeError(w, err)
		return
	}
	// Copied before the worker can see the file and change it.
	answer := fileResponse{File: f.desc}
	s.imports.push(time.Now().Add(s.cfg.MediaReadyAfter), &importJob{
		instanceID: c.instanceID,
		fileID:     f.desc.ID,
		src:        src,
		headers:    req.URLHeaders,
		who:        c.identity,
		external:   req.ExternalInfo,
	})
	writeJSON(w, http.StatusOK, answer)
}

// pendingFile is the descriptor an import starts with. Its id carries the
// extension the request implies (mimeType, then displayName, then the
// source path), as Wix's ids do; the bytes are not known yet.
func (s *Server) pendingFile(instanceID string, req importRequest, src *url.URL) (*mediaFile, error) {
	prefix, err := s.filePrefix(instanceID)
	if err != nil {
		return nil, err
	}
	ext := guessExt(req.MimeType, req.DisplayName, src.Path)
	id := prefix + "_" + randomHex(16) + "~mv2"
	if ext != "" {
		id += "." + ext
	}
	now := timestamp(s.now())
	labels := req.Labels
	if labels == nil {
		labels = []string{}
	}
	parent := req.ParentFolderID
	if parent == "" {
		parent = rootFolder
	}
	return &mediaFile{
		instanceID: instanceID,
		desc: FileDescriptor{
			ID:              id,
			DisplayName:     fileName(req.DisplayName, src.Path, id, ext),
			URL:             s.mediaURL(id),
			ParentFolderID:  parent,
			SizeInBytes:     "0",
			Private:         req.Private,
			MediaType:       mediaImage,
			OperationStatus: statusPending,
			SourceURL:       req.URL,
			Labels:          labels,
			CreatedDate:     now,
			UpdatedDate:     now,
			State:           "OK",
		},
	}, nil
}

// guessExt is the id extension an import request implies, or "".
func guessExt(mimeType, displayName, srcPath string) string {
	byMime := map[string]string{"image/jpeg": "jpg", "image/jpg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
	if ext, ok := byMime[strings.ToLower(mimeType)]; ok {
		return ext
	}
	for _, p := range []string{displayName, srcPath} {
		switch ext := strings.ToLower(strings.TrimPrefix(path.Ext(p), ".")); ext {
		case "jpg", "jpeg", "png", "gif", "webp":
			return ext
		}
	}
	return ""
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

// readyFile builds a READY image file, as seeding adds them.
func (s *Server) readyFile(instanceID, id string, data []byte, contentType string, width, height int, name string) *mediaFile {
	now := timestamp(s.now())
	f := &mediaFile{
		instanceID: instanceID,
		desc: FileDescriptor{
			ID:             id,
			DisplayName:    name,
			URL:            s.mediaURL(id),
			ParentFolderID: rootFolder,
			MediaType:      mediaImage,
			Labels:         []string{},
			CreatedDate:    now,
			State:          "OK",
		},
	}
	s.makeReady(f, data, contentType, width, height)
	return f
}

// makeReady turns f into a READY image holding data.
func (s *Server) makeReady(f *mediaFile, data []byte, contentType string, width, height int) {
	sum := md5.Sum(data)
	size := strconv.Itoa(len(data))
	u := s.mediaURL(f.desc.ID)
	f.data, f.contentType, f.width, f.height = data, contentType, width, height
	f.desc.Hash = hex.EncodeToString(sum[:])
	f.desc.SizeInBytes = size
	f.desc.Media = &FileMedia{Image: &ImageMedia{Image: MediaImage{
		ID: f.desc.ID, URL: u, Height: height, Width: width, Filename: f.desc.DisplayName, SizeInBytes: size,
	}}}
	f.desc.OperationStatus = statusReady
	f.desc.ThumbnailURL = u
	f.desc.UpdatedDate = timestamp(s.now())
}

// decodeImage reads the size and content type of PNG, JPEG or GIF bytes.
func decodeImage(data []byte) (width, height int, contentType string, err error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return 0, 0, "", fmt.Errorf("decode image: %w", err)
	}
	return cfg.Width, cfg.Height, "image/" + format, nil
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
	var data []byte
	var contentType, hash string
	s.mu.Lock()
	if f, ok := s.files[id]; ok {
		// A file's bytes are set once, when it becomes READY.
		data, contentType, hash = f.data, f.contentType, f.desc.Hash
	}
	s.mu.Unlock()
	if data == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("ETag", `"`+hash+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}
