package wixsim

import (
	"context"
	"net/url"
	"sync"
	"time"
)

// DefaultMediaReadyAfter is how long the sandbox keeps an import PENDING
// by default; real imports take about as long for a small photo.
const DefaultMediaReadyAfter = 300 * time.Millisecond

// importWorkers is how many imports are processed at the same time, so
// that one slow source does not hold back the others.
const importWorkers = 4

// importJob is an import waiting to be processed.
type importJob struct {
	instanceID string
	fileID     string
	src        *url.URL
	headers    map[string]string
	// who made the import; File Ready and File Failed carry it.
	who      identity
	external *ExternalInfo
}

// runImports runs the import workers until ctx is done; Run owns them.
func (s *Server) runImports(ctx context.Context) {
	var wg sync.WaitGroup
	for range importWorkers {
		wg.Go(func() { s.importLoop(ctx) })
	}
	wg.Wait()
}

func (s *Server) importLoop(ctx context.Context) {
	for {
		jobs, ok := s.imports.take(ctx, 1)
		if !ok {
			return
		}
		job := jobs[0]
		if !s.processImport(ctx, job) {
			// Shutting down mid-fetch: the import stays PENDING and queued.
			s.imports.done(job, true, time.Now())
			return
		}
		s.imports.done(job, false, time.Time{})
	}
}

// processImport fetches the source and settles the file READY or FAILED,
// queuing File Ready or File Failed. It returns false, changing nothing,
// when ctx ended during the fetch.
func (s *Server) processImport(ctx context.Context, job *importJob) bool {
	data, err := s.fetch(ctx, job.src, job.headers)
	if err != nil && ctx.Err() != nil {
		return false
	}
	var width, height int
	var contentType string
	if err == nil {
		width, height, contentType, err = decodeImage(data)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[job.fileID]
	st, siteOK := s.sites[job.instanceID]
	if !ok || !siteOK {
		return true
	}
	now := s.now()
	var ev domainEvent
	if err != nil {
		s.log.Info("media import failed", "instance_id", job.instanceID, "file_id", job.fileID, "url", job.src.Redacted(), "err", err)
		f.desc.OperationStatus = statusFailed
		f.desc.UpdatedDate = timestamp(now)
		ev = fileFailed(f.desc.ID, job.external, now)
	} else {
		s.makeReady(f, data, contentType, width, height)
		ev = fileReady(f.desc, job.external, now)
	}
	s.enqueue(st, job.who, []domainEvent{ev})
	return true
}

// pendingImports counts the site's imports not yet READY or FAILED.
func (s *Server) pendingImports(instanceID string) int {
	return s.imports.count(func(j *importJob) bool { return j.instanceID == instanceID })
}
