package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"gallerysync.dev/libs/bus"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"gallerysync.dev/services/console/auth"
)

// failuresLimit is how many of the newest failed events are listed.
const failuresLimit = 200

// ofTenant keeps a tenant's dead letters; a payload that does not decode
// belongs to nobody and is never shown to a site owner.
func ofTenant(tenant string) func(*gsv1.ChangeEvent) bool {
	return func(ev *gsv1.ChangeEvent) bool { return ev != nil && ev.GetTenantId() == tenant }
}

// failures lists the tenant's dead letters, newest first.
func (h *Handler) failures(ctx context.Context, tenant string) ([]FailureView, error) {
	dls, err := h.d.Failures.DeadLetters(ctx, ofTenant(tenant), failuresLimit)
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	out := []FailureView{}
	for _, dl := range dls {
		out = append(out, failureView(dl))
	}
	return out, nil
}

// retry replays one dead letter after checking it is the tenant's.
func (h *Handler) retry(ctx context.Context, tenant string, seq uint64) error {
	dl, err := h.d.Failures.DeadLetter(ctx, seq)
	if errors.Is(err, bus.ErrNoDeadLetter) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	if !ofTenant(tenant)(dl.Event) {
		return errNotFound
	}
	if err := h.d.Failures.Replay(ctx, seq); err != nil && !errors.Is(err, bus.ErrNoDeadLetter) {
		return fmt.Errorf("replay: %w", err)
	}
	return nil
}

// retryAll replays every listed dead letter of the tenant.
func (h *Handler) retryAll(ctx context.Context, tenant string) (int, error) {
	dls, err := h.d.Failures.DeadLetters(ctx, ofTenant(tenant), failuresLimit)
	if err != nil {
		return 0, fmt.Errorf("dead letters: %w", err)
	}
	n := 0
	for _, dl := range dls {
		if err := h.d.Failures.Replay(ctx, dl.Sequence); err != nil && !errors.Is(err, bus.ErrNoDeadLetter) {
			return n, fmt.Errorf("replay: %w", err)
		}
		n++
	}
	return n, nil
}

func (h *Handler) failuresPage(w http.ResponseWriter, r *http.Request, s auth.Session) error {
	fs, err := h.failures(r.Context(), s.Tenant)
	if err != nil {
		return err
	}
	return h.render(w, r, s, http.StatusOK, "failures", "failures", "Failures", fs)
}

func (h *Handler) retryForm(w http.ResponseWriter, r *http.Request, s auth.Session) error {
	seq, err := seqParam(r)
	if err != nil {
		return err
	}
	if err := h.retry(r.Context(), s.Tenant, seq); err != nil {
		return err
	}
	return redirect(w, r, "/failures", "retried")
}

func (h *Handler) retryAllForm(w http.ResponseWriter, r *http.Request, s auth.Session) error {
	if _, err := h.retryAll(r.Context(), s.Tenant); err != nil {
		return err
	}
	return redirect(w, r, "/failures", "retried-all")
}

func (h *Handler) apiFailures(r *http.Request, s auth.Session) (any, error) {
	fs, err := h.failures(r.Context(), s.Tenant)
	if err != nil {
		return nil, err
	}
	return map[string]any{"failures": fs}, nil
}

func (h *Handler) apiRetry(r *http.Request, s auth.Session) (any, error) {
	seq, err := seqParam(r)
	if err != nil {
		return nil, err
	}
	return nil, h.retry(r.Context(), s.Tenant, seq)
}

func (h *Handler) apiRetryAll(r *http.Request, s auth.Session) (any, error) {
	n, err := h.retryAll(r.Context(), s.Tenant)
	if err != nil {
		return nil, err
	}
	return map[string]int{"replayed": n}, nil
}
