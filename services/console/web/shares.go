package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"time"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/console/auth"
	"gallerysync.dev/services/console/share"
)

// shareRequest is the share form and the API body.
type shareRequest struct {
	GalleryID    string `json:"gallery_id"`
	ConnectionID string `json:"connection_id"`
	NewAlbum     bool   `json:"new_album"`
	AlbumName    string `json:"album_name"`
	AlbumID      string `json:"album_id"`
	// Direction is "one_way" or "two_way".
	Direction string `json:"direction"`
}

func (q shareRequest) request() (share.Request, error) {
	req := share.Request{GalleryID: q.GalleryID, ConnectionID: q.ConnectionID, NewAlbum: q.NewAlbum, AlbumName: q.AlbumName, AlbumID: q.AlbumID}
	switch q.Direction {
	case "one_way", "":
		req.Direction = gsv1.Direction_DIRECTION_ONE_WAY
	case "two_way":
		req.Direction = gsv1.Direction_DIRECTION_TWO_WAY
	default:
		return req, fmt.Errorf("%w: direction %q: want one_way or two_way", errBadInput, q.Direction)
	}
	return req, nil
}

// jobView is a job's progress as of now.
func jobView(j *gsv1.ShareJob, now time.Time) JobView {
	v := JobView{
		ID: j.GetJobId(), LinkID: j.GetLinkId(), State: share.StateName(j.GetState()),
		Total: int(j.GetTotal()), Done: int(j.GetDone()), Failed: int(j.GetFailed()), Error: j.GetError(),
		CreatedAt: timeOf(j.GetCreatedAt()), FinishedAt: timeOf(j.GetFinishedAt()),
		CanPause:  j.GetState() == gsv1.ShareState_SHARE_STATE_RUNNING,
		CanResume: j.GetState() == gsv1.ShareState_SHARE_STATE_PAUSED,
		CanCancel: share.Active(j.GetState()),
	}
	processed := v.Done + v.Failed
	switch {
	case j.GetState() == gsv1.ShareState_SHARE_STATE_DONE:
		v.Percent = 100
	case v.Total > 0:
		v.Percent = min(100, processed*100/v.Total)
	}
	end := now
	if !v.FinishedAt.IsZero() {
		end = v.FinishedAt
	}
	if elapsed := end.Sub(v.CreatedAt).Seconds(); elapsed > 0 && processed > 0 && !v.CreatedAt.IsZero() {
		v.PerSecond = math.Round(float64(processed)/elapsed*10) / 10
		if j.GetState() == gsv1.ShareState_SHARE_STATE_RUNNING && v.Total > processed {
			v.SecondsLeft = int(math.Ceil(float64(v.Total-processed) * elapsed / float64(processed)))
		}
	}
	return v
}

// job reads one of the tenant's jobs.
func (h *Handler) job(ctx context.Context, tenant, id string) (*gsv1.ShareJob, error) {
	resp, err := h.d.Mapping.GetShareJob(ctx, &gsv1.GetShareJobRequest{TenantId: tenant, JobId: id})
	if err != nil {
		return nil, fmt.Errorf("get share job: %w", err)
	}
	return resp.GetJob(), nil
}

// shareData is what the share page shows.
type shareData struct {
	Galleries   []GalleryView
	Connections []ConnectionView
	Albums      []string
	Form        shareRequest
	Error       string
}

func (h *Handler) sharePage(w http.ResponseWriter, r *http.Request, s auth.Session) error {
	form := shareRequest{GalleryID: r.URL.Query().Get("gallery"), NewAlbum: true, Direction: "one_way"}
	return h.renderShare(w, r, s, http.StatusOK, form, "")
}

func (h *Handler) renderShare(w http.ResponseWriter, r *http.Request, s auth.Session, code int, form shareRequest, msg string) error {
	conns, err := h.connections(r.Context(), s.Tenant)
	if err != nil {
		return err
	}
	links, err := h.d.Mapping.ListLinks(r.Context(), &gsv1.ListLinksRequest{TenantId: s.Tenant})
	if err != nil {
		return fmt.Errorf("list links: %w", err)
	}
	seen := map[string]bool{}
	var albums []string
	for _, l := range links.GetLinks() {
		if !seen[l.GetAlbumId()] {
			seen[l.GetAlbumId()] = true
			albums = append(albums, l.GetAlbumId())
		}
	}
	data := shareData{Galleries: h.allGalleries(r.Context(), s.Tenant), Connections: conns, Albums: albums, Form: form, Error: msg}
	return h.render(w, r, s, code, "share", "share", "Share a gallery", data)
}

func (h *Handler) shareForm(w http.ResponseWriter, r *http.Request, s auth.Session) error {
	form := shareRequest{
		GalleryID: r.PostFormValue("gallery"), ConnectionID: r.PostFormValue("connection"),
		NewAlbum: r.PostFormValue("album_mode") != "existing", AlbumName: r.PostFormValue("album_name"),
		AlbumID: r.PostFormValue("album_id"), Direction: r.PostFormValue("direction"),
	}
	req, err := form.request()
	if err == nil {
		var job *gsv1.ShareJob
		if job, err = h.d.Shares.Start(r.Context(), s.Tenant, req); err == nil {
			return redirect(w, r, "/shares/"+job.GetJobId(), "")
		}
	}
	code, msg := h.statusOf(r, err)
	return h.renderShare(w, r, s, code, form, msg)
}

// progressData is what the progress page shows.
type progressData struct {
	Job  JobView
	Link *LinkView
}

func (h *Handler) progressPage(w http.ResponseWriter, r *http.Request, s auth.Session) error {
	j, err := h.job(r.Context(), s.Tenant, r.PathValue("job"))
	if err != nil {
		return err
	}
	data := progressData{Job: jobView(j, h.now())}
	if l, err := h.linkView(r.Context(), s.Tenant, j.GetLinkId(), false); err == nil {
		data.Link = &l
	}
	return h.render(w, r, s, http.StatusOK, "progress", "share", "Sharing", data)
}

func (h *Handler) shareActionForm(w http.ResponseWriter, r *http.Request, s auth.Session) error {
	if _, err := share.Transition(r.Context(), h.d.Mapping, s.Tenant, r.PathValue("job"), share.Action(r.PathValue("action"))); err != nil {
		return err
	}
	return redirect(w, r, "/shares/"+r.PathValue("job"), "")
}

func (h *Handler) apiStartShare(r *http.Request, s auth.Session) (any, error) {
	var q shareRequest
	if err := decodeJSON(r, &q); err != nil {
		return nil, err
	}
	req, err := q.request()
	if err != nil {
		return nil, err
	}
	job, err := h.d.Shares.Start(r.Context(), s.Tenant, req)
	if err != nil {
		return nil, err
	}
	return created{jobView(job, h.now())}, nil
}

func (h *Handler) apiShare(r *http.Request, s auth.Session) (any, error) {
	j, err := h.job(r.Context(), s.Tenant, r.PathValue("job"))
	if err != nil {
		return nil, err
	}
	return jobView(j, h.now()), nil
}

func (h *Handler) apiShareAction(r *http.Request, s auth.Session) (any, error) {
	j, err := share.Transition(r.Context(), h.d.Mapping, s.Tenant, r.PathValue("job"), share.Action(r.PathValue("action")))
	if err != nil {
		return nil, err
	}
	return jobView(j, h.now()), nil
}
