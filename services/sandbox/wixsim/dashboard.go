package wixsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// ownerPermissions is what Wix puts in an instance opened by the site owner.
const ownerPermissions = "OWNER"

// instanceData is the JSON half of a signed instance, as Wix sends it to an
// app's dashboard page (wix-api.md 4.1).
type instanceData struct {
	InstanceID  string `json:"instanceId"`
	AppDefID    string `json:"appDefId"`
	SignDate    string `json:"signDate"`
	UID         string `json:"uid"`
	Permissions string `json:"permissions"`
	DemoMode    bool   `json:"demoMode"`
	SiteOwnerID string `json:"siteOwnerId"`
}

// DashboardURL is appURL with the signed instance Wix adds when the site
// owner opens the app's dashboard page: `instance=<signature>.<data>`, both
// base64url without padding, data the instance JSON and signature
// HMAC-SHA256 of the data part with the app secret. The app must be
// installed on the instance.
func (s *Server) DashboardURL(instanceID, appURL string) (string, error) {
	u, err := url.Parse(appURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("dashboard url: app url %q is not an absolute http(s) URL: %w", appURL, ErrInvalid)
	}
	s.mu.Lock()
	st, ok := s.sites[instanceID]
	s.mu.Unlock()
	if !ok || !st.installed {
		return "", fmt.Errorf("dashboard url: %w", siteNotFound(instanceID))
	}
	data, err := json.Marshal(instanceData{
		InstanceID:  instanceID,
		AppDefID:    s.cfg.AppID,
		SignDate:    timestamp(s.now()),
		UID:         st.ownerUserID,
		Permissions: ownerPermissions,
		SiteOwnerID: st.ownerUserID,
	})
	if err != nil {
		return "", fmt.Errorf("dashboard url: %w", err)
	}
	q := u.Query()
	q.Set("instance", signInstance([]byte(s.cfg.AppSecret), data))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// signInstance encodes data and signs the encoded part.
func signInstance(secret, data []byte) string {
	enc := base64.RawURLEncoding.EncodeToString(data)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(enc))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) + "." + enc
}

// handleDashboard is GET /_sandbox/dashboard?instanceId=&appUrl=: it stands
// in for the site owner opening the app in the Wix dashboard, and redirects
// to appUrl with a freshly signed instance.
func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var vs []FieldViolation
	if q.Get("instanceId") == "" {
		vs = append(vs, violation("instanceId", "REQUIRED_FIELD", "must not be empty"))
	}
	if q.Get("appUrl") == "" {
		vs = append(vs, violation("appUrl", "REQUIRED_FIELD", "must not be empty"))
	}
	if len(vs) > 0 {
		writeError(w, invalid(vs...))
		return
	}
	target, err := s.DashboardURL(q.Get("instanceId"), q.Get("appUrl"))
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		writeError(w, ae)
		return
	case err != nil:
		writeError(w, invalid(violation("appUrl", "FORMAT", "must be an absolute http(s) URL")))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}
