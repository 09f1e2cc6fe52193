package check_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/services/console/check"
)

const token = "s3cret-token"

// platform is a fake platform API: it answers the check call of each
// platform with status, as its documentation says the real one does.
func platform(t *testing.T, status int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status != http.StatusOK {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"error":"The access token is invalid","message":"Authentication Required"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/v1/accounts/verify_credentials":
			if r.Header.Get("Authorization") != "Bearer "+token {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			_, _ = w.Write([]byte(`{"id":"14715","username":"trwnh","acct":"trwnh"}`))
		case r.Method == http.MethodPost && r.URL.Path == "/xrpc/com.atproto.server.createSession":
			var body map[string]string
			if json.NewDecoder(r.Body).Decode(&body) != nil || body["identifier"] != "alice.test" || body["password"] != token {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"error":"AuthenticationRequired","message":"Invalid identifier or password"}`))
				return
			}
			_, _ = w.Write([]byte(`{"did":"did:plc:abc","handle":"alice.test","accessJwt":"a","refreshJwt":"r"}`))
		case r.Method == http.MethodGet && r.URL.Path == "/v5/user_account":
			if r.Header.Get("Authorization") != "Bearer "+token {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			_, _ = w.Write([]byte(`{"username":"gallerypins","account_type":"BUSINESS"}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCheckers(t *testing.T) {
	t.Parallel()
	ok := platform(t, http.StatusOK)
	down := platform(t, http.StatusServiceUnavailable)
	client := check.NewHTTPClient(5*time.Second, true)
	mastodon, atproto, pinterest := check.NewMastodon(client), check.NewATProto(client), check.NewPinterest(client)
	tests := []struct {
		name    string
		checker check.Checker
		creds   check.Credentials
		want    check.Account
		wantErr error
	}{
		{"mastodon", mastodon, check.Credentials{BaseURL: ok.URL + "/", Secret: token},
			check.Account{BaseURL: ok.URL, AccountID: "14715", DisplayName: "@trwnh@" + strings.TrimPrefix(ok.URL, "http://")}, nil},
		{"mastodon wrong token", mastodon, check.Credentials{BaseURL: ok.URL, Secret: "nope"}, check.Account{}, check.ErrRejected},
		{"mastodon no token", mastodon, check.Credentials{BaseURL: ok.URL}, check.Account{}, check.ErrInvalid},
		{"mastodon not an url", mastodon, check.Credentials{BaseURL: "ftp://x", Secret: token}, check.Account{}, check.ErrInvalid},
		{"mastodon down", mastodon, check.Credentials{BaseURL: down.URL, Secret: token}, check.Account{}, check.ErrUnreachable},
		{"mastodon nothing listens", mastodon, check.Credentials{BaseURL: "http://127.0.0.1:1", Secret: token}, check.Account{}, check.ErrUnreachable},
		{"atproto", atproto, check.Credentials{BaseURL: ok.URL, Handle: "@alice.test", Secret: token},
			check.Account{BaseURL: ok.URL, AccountID: "did:plc:abc", DisplayName: "@alice.test"}, nil},
		{"atproto wrong password", atproto, check.Credentials{BaseURL: ok.URL, Handle: "alice.test", Secret: "nope"}, check.Account{}, check.ErrRejected},
		{"atproto no handle", atproto, check.Credentials{BaseURL: ok.URL, Secret: token}, check.Account{}, check.ErrInvalid},
		{"pinterest", pinterest, check.Credentials{BaseURL: ok.URL + "/v5", Secret: token},
			check.Account{BaseURL: ok.URL + "/v5", AccountID: "gallerypins", DisplayName: "gallerypins"}, nil},
		{"pinterest wrong token", pinterest, check.Credentials{BaseURL: ok.URL + "/v5", Secret: "nope"}, check.Account{}, check.ErrRejected},
		{"pinterest down", pinterest, check.Credentials{BaseURL: down.URL + "/v5", Secret: token}, check.Account{}, check.ErrUnreachable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.checker.Check(context.Background(), tt.creds)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), token) {
					t.Fatalf("error %q shows the secret", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Check = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestPrivateAddressesRefused(t *testing.T) {
	t.Parallel()
	srv := platform(t, http.StatusOK)
	c := check.NewMastodon(check.NewHTTPClient(5*time.Second, false))
	_, err := c.Check(context.Background(), check.Credentials{BaseURL: srv.URL, Secret: token})
	if !errors.Is(err, check.ErrInvalid) || !errors.Is(err, check.ErrPrivateAddress) {
		t.Fatalf("loopback instance: error %v, want ErrInvalid and ErrPrivateAddress", err)
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	target := platform(t, http.StatusOK)
	hop := httptest.NewServer(http.RedirectHandler(target.URL+"/api/v1/accounts/verify_credentials", http.StatusFound))
	t.Cleanup(hop.Close)
	c := check.NewMastodon(check.NewHTTPClient(5*time.Second, true))
	if _, err := c.Check(context.Background(), check.Credentials{BaseURL: hop.URL, Secret: token}); !errors.Is(err, check.ErrInvalid) {
		t.Fatalf("redirecting instance: error %v, want ErrInvalid naming the new address", err)
	}
}
