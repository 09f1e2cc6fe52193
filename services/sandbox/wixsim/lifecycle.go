package wixsim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
)

// InstallApp installs the app on a site, creating the site when it is new
// (its owner's user id then follows from the instance id), and sends
// AppInstalled with the owner's identity. originInstanceID names the site
// this one was duplicated from, or is "". Installing on a site that has
// the app already fails with ErrConflict; reinstalling after RemoveApp
// finds the site's content as it was.
func (s *Server) InstallApp(instanceID, originInstanceID string) error {
	if instanceID == "" {
		return fmt.Errorf("install app: %w", invalid(violation("instanceId", "REQUIRED_FIELD", "must not be empty")))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.sites[instanceID]
	switch {
	case !ok:
		st = newSite(instanceID, derivedOwner(instanceID))
		s.sites[instanceID] = st
	case st.installed:
		return fmt.Errorf("install app: %w", appError(http.StatusConflict, ErrConflict, "APP_ALREADY_INSTALLED",
			"the app is already installed on instance "+instanceID))
	default:
		st.installed = true
	}
	s.enqueueLifecycle(st, EventAppInstalled, lifecycleData{AppID: s.cfg.AppID, OriginInstanceID: originInstanceID})
	s.log.Info("app installed", "instance_id", instanceID)
	return nil
}

// RemoveApp uninstalls the app: every token of the instance stops working
// at once, the token endpoint refuses the instance, and AppRemoved is
// sent. The site and its content stay. Removing from an unknown site or
// one without the app fails with ErrSiteNotFound.
func (s *Server) RemoveApp(instanceID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.sites[instanceID]
	if !ok || !st.installed {
		return fmt.Errorf("remove app: %w", siteNotFound(instanceID))
	}
	s.revokeTokensLocked(instanceID)
	s.enqueueLifecycle(st, EventAppRemoved, lifecycleData{AppID: s.cfg.AppID})
	st.installed = false
	s.log.Info("app removed", "instance_id", instanceID)
	return nil
}

// derivedOwner is the owner user id of a site created by InstallApp: a
// UUID that follows from the instance id, so it is the same on every run.
func derivedOwner(instanceID string) string {
	sum := sha256.Sum256([]byte("owner:" + instanceID))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
}

type installRequest struct {
	InstanceID       string `json:"instanceId"`
	OriginInstanceID string `json:"originInstanceId"`
}

type installResponse struct {
	InstanceID string `json:"instanceId"`
	AppID      string `json:"appId"`
	Installed  bool   `json:"installed"`
}

// handleInstall is POST /_sandbox/apps/install {instanceId, originInstanceId?}.
func (s *Server) handleInstall(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	var req installRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	if err := s.InstallApp(req.InstanceID, req.OriginInstanceID); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, installResponse{InstanceID: req.InstanceID, AppID: s.cfg.AppID, Installed: true})
}

// handleRemove is POST /_sandbox/apps/remove {instanceId}.
func (s *Server) handleRemove(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	var req installRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.InstanceID == "" {
		writeError(w, invalid(violation("instanceId", "REQUIRED_FIELD", "must not be empty")))
		return
	}
	if err := s.RemoveApp(req.InstanceID); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, installResponse{InstanceID: req.InstanceID, AppID: s.cfg.AppID, Installed: false})
}
