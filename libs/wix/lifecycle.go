package wix

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// The app lifecycle webhooks (wix-api.md 2.5). The legacy events and the app
// instance events carry a bare {appId, originInstanceId} payload and no
// DomainEvent; App Installation events are DomainEvents of their entity.
const (
	EventAppInstalled         = "AppInstalled"
	EventAppRemoved           = "AppRemoved"
	EventAppInstanceInstalled = "wix.app_management.apps.app_instance.v1.app_instance_installed"
	EventAppInstanceRemoved   = "wix.app_management.apps.app_instance.v1.app_instance_removed"
	FqdnAppInstallation       = "wix.app.installations.v1.app_installation"
)

// Statuses of an App Installation. Wix keeps one installation per site and
// flips its status on uninstall and reinstall.
const (
	InstallationInstalled   = "INSTALLED"
	InstallationUninstalled = "UNINSTALLED"
)

// lifecyclePayload is the bare payload of the app events, or the App
// Installation entity, reduced to what sync needs.
type lifecyclePayload struct {
	AppID            string `json:"appId"`
	OriginInstanceID string `json:"originInstanceId"`
	Status           string `json:"status"`
}

// normalizeLifecycle maps an app lifecycle event. It returns nil and no
// error when env is not one, so other routes get their turn.
func normalizeLifecycle(env *Envelope, cfg normalizeConfig) (*gsv1.ChangeEvent, error) {
	kind, payload, ok := lifecycleKind(env)
	if !ok {
		return nil, nil
	}
	var p lifecyclePayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, fmt.Errorf("%w: app event %q payload: %w", ErrMalformed, env.EventType, err)
	}
	if env.Event.EntityFqdn == FqdnAppInstallation && env.Event.Slug == SlugUpdated {
		// An update is an uninstall or a reinstall only by its status; other
		// updates (plan, version, review) are not lifecycle changes.
		switch p.Status {
		case InstallationInstalled:
			kind = gsv1.ChangeKind_CHANGE_KIND_APP_INSTALLED
		case InstallationUninstalled:
			kind = gsv1.ChangeKind_CHANGE_KIND_APP_REMOVED
		default:
			return nil, fmt.Errorf("%w: app installation updated with status %q", ErrUnsupported, p.Status)
		}
	}
	if cfg.appID != "" && p.AppID != "" && p.AppID != cfg.appID {
		return nil, fmt.Errorf("%w: app event %q is for app %q, not ours", ErrUnsupported, env.EventType, p.AppID)
	}
	at := firstTime(env.Event.EventTime, env.IssuedAt, env.ReceivedAt)
	if at.IsZero() {
		return nil, fmt.Errorf("%w: app event %q has no time (no eventTime, iat or receipt time)", ErrMalformed, env.EventType)
	}
	out := newEvent(env, lifecycleEventID(env), kind, at)
	if kind == gsv1.ChangeKind_CHANGE_KIND_APP_INSTALLED {
		out.OriginInstanceId = p.OriginInstanceID
	}
	return finish(out)
}

// lifecycleKind recognizes an app lifecycle event and returns the kind it
// names and its payload. The legacy and app instance events are known by
// eventType alone (there is no DomainEvent to route on); should the app
// instance events come as a DomainEvent, its fqdn and slug are matched too.
func lifecycleKind(env *Envelope) (gsv1.ChangeKind, json.RawMessage, bool) {
	ev := &env.Event
	if env.HasDomainEvent() && ev.EntityFqdn == FqdnAppInstallation {
		switch ev.Slug {
		case SlugCreated, SlugUpdated:
			// The kind of an update is settled by its status.
			return gsv1.ChangeKind_CHANGE_KIND_APP_INSTALLED, ev.Body, true
		case SlugDeleted:
			return gsv1.ChangeKind_CHANGE_KIND_APP_REMOVED, ev.Body, true
		}
		return gsv1.ChangeKind_CHANGE_KIND_UNSPECIFIED, nil, false
	}
	names := []string{env.EventType}
	payload := env.Data
	if env.HasDomainEvent() {
		names = append(names, ev.EntityFqdn+"_"+ev.Slug)
		payload = ev.Body
	}
	for _, name := range names {
		switch name {
		case EventAppInstalled, EventAppInstanceInstalled:
			return gsv1.ChangeKind_CHANGE_KIND_APP_INSTALLED, payload, true
		case EventAppRemoved, EventAppInstanceRemoved:
			return gsv1.ChangeKind_CHANGE_KIND_APP_REMOVED, payload, true
		}
	}
	return gsv1.ChangeKind_CHANGE_KIND_UNSPECIFIED, nil, false
}

// lifecycleEventID is the dedup id of an app event: the DomainEvent id when
// there is one; otherwise, as the bare-payload events have no id, the hex
// SHA-256 of "<eventType>|<instanceId>|<iat>" (iat in Unix seconds), or of
// "<eventType>|<instanceId>|<data>" when the token has no iat. A retry of one
// delivery keeps its token's iat, so it maps to the same id; a later
// reinstall is a new token with a later iat and a new id.
func lifecycleEventID(env *Envelope) string {
	if env.HasDomainEvent() {
		return env.Event.ID
	}
	h := sha256.New()
	h.Write([]byte(env.EventType + "|" + env.InstanceID + "|"))
	if !env.IssuedAt.IsZero() {
		h.Write([]byte(strconv.FormatInt(env.IssuedAt.Unix(), 10)))
	} else {
		h.Write(env.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}
