package auth_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/services/console/auth"
)

var (
	secret = []byte("app-secret")
	now    = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	key    = []byte("0123456789abcdef0123456789abcdef")
)

// signRaw signs an arbitrary data part the way Wix does.
func signRaw(secret []byte, data string) string {
	enc := base64.RawURLEncoding.EncodeToString([]byte(data))
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(enc))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) + "." + enc
}

func TestVerifyInstance(t *testing.T) {
	t.Parallel()
	good, err := auth.SignInstance(secret, auth.Instance{InstanceID: "site-1", UID: "owner", Permissions: "OWNER", SignDate: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	sig, data, _ := strings.Cut(good, ".")
	tests := []struct {
		name   string
		signed string
		want   error
	}{
		{"valid", good, nil},
		{"padded base64", sig + "=." + data, nil},
		{"empty", "", auth.ErrNoInstance},
		{"no dot", sig + data, auth.ErrMalformed},
		{"other secret", signRaw([]byte("other"), `{"instanceId":"site-1","signDate":"2025-06-01T11:00:00Z"}`), auth.ErrSignature},
		{"data changed", sig + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"instanceId":"site-2","signDate":"2025-06-01T11:00:00Z"}`)), auth.ErrSignature},
		{"signature not base64", "!!!." + data, auth.ErrMalformed},
		{"too old", signRaw(secret, `{"instanceId":"site-1","signDate":"2025-05-31T11:59:00Z"}`), auth.ErrStale},
		{"from the future", signRaw(secret, `{"instanceId":"site-1","signDate":"2025-06-01T13:00:00Z"}`), auth.ErrStale},
		{"no instance id", signRaw(secret, `{"signDate":"2025-06-01T11:00:00Z"}`), auth.ErrMalformed},
		{"no sign date", signRaw(secret, `{"instanceId":"site-1"}`), auth.ErrMalformed},
		{"not json", signRaw(secret, `site-1`), auth.ErrMalformed},
		{"huge", strings.Repeat("a", 9000) + "." + data, auth.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in, err := auth.VerifyInstance(secret, tt.signed, now, 24*time.Hour)
			if tt.want == nil {
				if err != nil || in.InstanceID != "site-1" || in.UID != "owner" || in.Permissions != "OWNER" {
					t.Fatalf("VerifyInstance = %+v, %v; want site-1 of its owner", in, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
}

// cookieOf returns the session cookie set on a response.
func cookieOf(t *testing.T, rec *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range rec.Result().Cookies() {
		if c.Name == auth.CookieName {
			return c
		}
	}
	t.Fatal("no session cookie set")
	return nil
}

func TestSessionCookieAttributes(t *testing.T) {
	t.Parallel()
	s, err := auth.NewSessions(key, time.Hour, auth.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		proto    string
		secure   bool
		sameSite http.SameSite
	}{
		{"plain http", "", false, http.SameSiteLaxMode},
		{"behind an https proxy", "https", true, http.SameSiteNoneMode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			rec := httptest.NewRecorder()
			if _, err := s.Issue(rec, r, auth.Instance{InstanceID: "site-1"}); err != nil {
				t.Fatal(err)
			}
			c := cookieOf(t, rec)
			if !c.HttpOnly || c.Secure != tt.secure || c.SameSite != tt.sameSite || c.Path != "/" {
				t.Fatalf("cookie %+v: want HttpOnly, Secure=%v, SameSite=%v, Path=/", c, tt.secure, tt.sameSite)
			}
			if !c.Expires.Equal(now.Add(time.Hour)) {
				t.Fatalf("cookie expires %v, want %v", c.Expires, now.Add(time.Hour))
			}
		})
	}
}

func TestSessionRoundTripAndTampering(t *testing.T) {
	t.Parallel()
	clock := now
	s, err := auth.NewSessions(key, time.Hour, auth.WithClock(func() time.Time { return clock }))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	issued, err := s.Issue(rec, httptest.NewRequest(http.MethodGet, "/", nil), auth.Instance{InstanceID: "site-1", UID: "owner"})
	if err != nil {
		t.Fatal(err)
	}
	c := cookieOf(t, rec)
	read := func(value string) (auth.Session, error) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(&http.Cookie{Name: auth.CookieName, Value: value})
		return s.Read(r)
	}
	got, err := read(c.Value)
	if err != nil || got.Tenant != "site-1" || got.UID != "owner" {
		t.Fatalf("Read = %+v, %v; want site-1", got, err)
	}
	if tok := s.CSRFToken(got); !s.CheckCSRF(got, tok) || tok != s.CSRFToken(issued) || s.CheckCSRF(got, tok+"x") {
		t.Fatal("the CSRF token of a read session must be the issued one, and only it must pass")
	}

	payload, sig, _ := strings.Cut(c.Value, ".")
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"t":"site-2","e":` + "9999999999" + `,"n":"x"}`))
	other, _ := auth.NewSessions([]byte("ffffffffffffffffffffffffffffffff"), time.Hour)
	otherRec := httptest.NewRecorder()
	if _, err := other.Issue(otherRec, httptest.NewRequest(http.MethodGet, "/", nil), auth.Instance{InstanceID: "site-1"}); err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]string{
		"other tenant, same signature": forged + "." + sig,
		"no signature":                 payload,
		"other key":                    cookieOf(t, otherRec).Value,
		"garbage":                      "x.y",
	} {
		if _, err := read(value); !errors.Is(err, auth.ErrSession) {
			t.Errorf("%s: error %v, want ErrSession", name, err)
		}
	}
	if _, err := s.Read(httptest.NewRequest(http.MethodGet, "/", nil)); !errors.Is(err, auth.ErrSession) {
		t.Errorf("no cookie: error %v, want ErrSession", err)
	}
	clock = now.Add(time.Hour)
	if _, err := read(c.Value); !errors.Is(err, auth.ErrSession) {
		t.Errorf("expired: error %v, want ErrSession", err)
	}
	if _, err := auth.NewSessions([]byte("short"), time.Hour); err == nil {
		t.Error("a 5-byte key was accepted")
	}
}
