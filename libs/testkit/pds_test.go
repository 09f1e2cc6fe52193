package testkit

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestPDSServesAccounts(t *testing.T) {
	t.Parallel()
	p := StartPDS(t)
	did, handle, password := p.CreateAccount(t, "kit")
	if !strings.HasPrefix(did, "did:plc:") || handle != "kit"+p.HandleDomain() || password == "" {
		t.Fatalf("account: did %q handle %q password set %v", did, handle, password != "")
	}
	var sess struct {
		DID string `json:"did"`
	}
	if err := p.xrpc("com.atproto.server.createSession", "", map[string]string{"identifier": handle, "password": password}, &sess); err != nil {
		t.Fatalf("log in with the returned password: %v", err)
	}
	if sess.DID != did {
		t.Fatalf("session did %q, want %q", sess.DID, did)
	}
	resp, err := http.Get(p.URL() + "/xrpc/com.atproto.sync.getLatestCommit?did=" + did)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var head struct {
		Rev string `json:"rev"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&head) != nil || head.Rev == "" {
		t.Fatalf("getLatestCommit: status %d rev %q", resp.StatusCode, head.Rev)
	}
}

func TestPDSStopEndsProcess(t *testing.T) {
	t.Parallel()
	p := StartPDS(t)
	p.Stop()
	select {
	case <-p.done:
	default:
		t.Fatal("process still running after Stop")
	}
	if _, err := http.Get(p.URL() + "/xrpc/_health"); err == nil {
		t.Fatal("PDS still answers after Stop")
	}
}
