package wix

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"gallerysync.dev/libs/wix/wixtest"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const (
	otherAppID     = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	originInstance = "77c0d2e1-3f4a-4b5c-9d8e-1f2a3b4c5d6e"
	installationA  = "inst-5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
)

// testIssuedAt is the iat of the corpus webhooks that carry one.
func testIssuedAt() time.Time { return time.Unix(1772368300, 0).UTC() }

// derivedID is the documented dedup id of an app event without an event id:
// hex SHA-256 of "<eventType>|<instanceId>|<iat or data>".
func derivedID(t testing.TB, eventType string, iat time.Time, payload map[string]any) string {
	t.Helper()
	last := ""
	if iat.IsZero() {
		b, err := json.Marshal(payload)
		if err != nil {
			t.Fatal(err)
		}
		last = string(b)
	} else {
		last = strconv.FormatInt(iat.Unix(), 10)
	}
	sum := sha256.Sum256([]byte(eventType + "|" + tenant + "|" + last))
	return hex.EncodeToString(sum[:])
}

func wantApp(sourceID string, kind gsv1.ChangeKind, at time.Time, originInstanceID string, id *gsv1.Identity) *gsv1.ChangeEvent {
	ev := wantEvent(sourceID, kind, "", nil, id)
	ev.OccurredAt = timestamppb.New(at)
	ev.OriginInstanceId = originInstanceID
	return ev
}

// lifecycleCorpus holds the app lifecycle events: the legacy AppInstalled
// and AppRemoved, the app instance events, and App Installation events.
func lifecycleCorpus(t testing.TB) []corpusCase {
	t.Helper()
	installed, removed := gsv1.ChangeKind_CHANGE_KIND_APP_INSTALLED, gsv1.ChangeKind_CHANGE_KIND_APP_REMOVED
	iat, received, at := testIssuedAt(), testReceivedAt(), testEventTime()

	var cases []corpusCase
	// The bare-payload events: each name, with and without iat, data as a
	// string and as an object, without identity and with one.
	for _, e := range []struct {
		eventType string
		kind      gsv1.ChangeKind
	}{
		{EventAppInstalled, installed},
		{EventAppRemoved, removed},
		{EventAppInstanceInstalled, installed},
		{EventAppInstanceRemoved, removed},
	} {
		for _, v := range []struct {
			name        string
			iat         time.Time
			asObject    bool
			origin      string
			identity    map[string]any
			wantID      *gsv1.Identity
			wantOrigin  bool
			wantAtIsIat bool
		}{
			{name: "with iat", iat: iat, wantAtIsIat: true},
			{name: "with iat, data as object, duplicated site", iat: iat, asObject: true, origin: originInstance, wantOrigin: true, wantAtIsIat: true},
			{name: "without iat", identity: wixUser(), wantID: wixUserProto()},
			{name: "without iat, data as object, our app as actor", asObject: true, identity: ourApp(), wantID: appProto()},
		} {
			payload := wixtest.AppPayload(appID, v.origin)
			hook := webhook(e.eventType, payload, v.identity)
			hook.IssuedAt, hook.EventAsObject = v.iat, v.asObject
			wantAt := received
			if v.wantAtIsIat {
				wantAt = iat
			}
			wantID := v.wantID
			if wantID == nil {
				wantID = &gsv1.Identity{}
			}
			origin := ""
			if v.wantOrigin && e.kind == installed {
				origin = originInstance
			}
			cases = append(cases, corpusCase{
				name:    e.eventType + ", " + v.name,
				hook:    hook,
				want:    wantApp(derivedID(t, e.eventType, v.iat, payload), e.kind, wantAt, origin, wantID),
				subject: appSubject,
			})
		}
	}

	installation := func(slug, eventID, status string) map[string]any {
		return wixtest.AppInstallationEvent(slug, eventID, installationA, tenant, appID, status, at)
	}
	const installationET = "wix.app.installations.v1.app_installation_"
	withAsJSON := installation(SlugUpdated, "ev-installation-asjson", InstallationUninstalled)
	withAsJSON = withEntity(t, withAsJSON, "updatedEvent", "currentEntityAsJson", true)
	noAppID := wixtest.AppPayload("", "")
	malformed := map[string]any{"appId": 42}

	cases = append(cases,
		corpusCase{
			name:    "app installation created",
			hook:    webhook(installationET+"created", installation(SlugCreated, "ev-installation-created", InstallationInstalled), wixUser()),
			want:    wantApp("ev-installation-created", installed, at, "", wixUserProto()),
			subject: appSubject,
		},
		corpusCase{
			name:    "app installation updated to uninstalled",
			hook:    webhook(installationET+"updated", installation(SlugUpdated, "ev-installation-uninstalled", InstallationUninstalled), wixUser()),
			want:    wantApp("ev-installation-uninstalled", removed, at, "", wixUserProto()),
			subject: appSubject,
		},
		corpusCase{
			name:    "app installation updated to uninstalled, AsJson entity as string",
			hook:    webhook(installationET+"updated", withAsJSON, nil),
			want:    wantApp("ev-installation-asjson", removed, at, "", &gsv1.Identity{}),
			subject: appSubject,
		},
		corpusCase{
			name:    "app installation updated to installed: a reinstall",
			hook:    webhook(installationET+"updated", installation(SlugUpdated, "ev-installation-reinstalled", InstallationInstalled), wixUser()),
			want:    wantApp("ev-installation-reinstalled", installed, at, "", wixUserProto()),
			subject: appSubject,
		},
		corpusCase{
			name:    "app installation deleted",
			hook:    webhook(installationET+"deleted", installation(SlugDeleted, "ev-installation-deleted", ""), ourApp()),
			want:    wantApp("ev-installation-deleted", removed, at, "", appProto()),
			subject: appSubject,
		},
		corpusCase{
			name:    "app event without appId",
			hook:    webhook(EventAppRemoved, noAppID, nil),
			want:    wantApp(derivedID(t, EventAppRemoved, time.Time{}, noAppID), removed, received, "", &gsv1.Identity{}),
			subject: appSubject,
		},
		corpusCase{
			name: "app installation updated with another status",
			hook: webhook(installationET+"updated", installation(SlugUpdated, "ev-installation-other", "PENDING"), wixUser()),
			err:  ErrUnsupported,
		},
		corpusCase{name: "AppInstalled of another app", hook: webhook(EventAppInstalled, wixtest.AppPayload(otherAppID, ""), nil), err: ErrUnsupported},
		corpusCase{
			name: "app installation of another app",
			hook: webhook(installationET+"created", wixtest.AppInstallationEvent(SlugCreated, "ev-installation-foreign", installationA, tenant, otherAppID, InstallationInstalled, at), nil),
			err:  ErrUnsupported,
		},
		corpusCase{name: "AppInstalled with a malformed payload", hook: webhook(EventAppInstalled, malformed, nil), err: ErrMalformed},
	)
	return cases
}
