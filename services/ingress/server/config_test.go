package server_test

import (
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gallerysync.dev/libs/flagenv"
	"gallerysync.dev/libs/wix"
	"gallerysync.dev/libs/wix/wixtest"
	"gallerysync.dev/services/ingress/server"
)

func validConfig(keyPEM string) server.Config {
	return server.Config{
		HTTPAddr:        "127.0.0.1:0",
		MaxBodyBytes:    1 << 20,
		WixPublicKey:    keyPEM,
		PublishTimeout:  time.Second,
		ShutdownTimeout: time.Second,
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(*server.Config)
		wantErr bool
	}{
		{"valid", func(*server.Config) {}, false},
		{"key file instead of key", func(c *server.Config) { c.WixPublicKey, c.WixPublicKeyFile = "", "key.pem" }, false},
		{"no key", func(c *server.Config) { c.WixPublicKey = "" }, true},
		{"key and key file", func(c *server.Config) { c.WixPublicKeyFile = "key.pem" }, true},
		{"no address", func(c *server.Config) { c.HTTPAddr = "" }, true},
		{"zero body limit", func(c *server.Config) { c.MaxBodyBytes = 0 }, true},
		{"zero publish timeout", func(c *server.Config) { c.PublishTimeout = 0 }, true},
		{"negative shutdown timeout", func(c *server.Config) { c.ShutdownTimeout = -time.Second }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig("pem")
			tc.edit(&c)
			err := c.Validate()
			if tc.wantErr != (err != nil) || (err != nil && !errors.Is(err, server.ErrConfig)) {
				t.Fatalf("Validate = %v, want error %v (ErrConfig)", err, tc.wantErr)
			}
		})
	}
}

func TestRegisterFlagsDefaultsAndEnv(t *testing.T) {
	t.Parallel()
	var c server.Config
	fs := flag.NewFlagSet("ingress", flag.ContinueOnError)
	c.RegisterFlags(fs)
	env := map[string]string{"GALLERYSYNC_WIX_PUBLIC_KEY_FILE": "/run/secrets/wix.pem", "GALLERYSYNC_PUBLISH_TIMEOUT": "800ms"}
	if err := flagenv.Parse(fs, []string{"-http-addr", ":9090"}, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	want := server.Config{
		HTTPAddr:         ":9090",
		MaxBodyBytes:     1 << 20,
		WixPublicKeyFile: "/run/secrets/wix.pem",
		PublishTimeout:   800 * time.Millisecond,
		ShutdownTimeout:  10 * time.Second,
		MappingAddr:      "127.0.0.1:9090",
	}
	if c != want {
		t.Fatalf("config %+v, want %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults plus a key file do not validate: %v", err)
	}
}

func TestNewLoadsKey(t *testing.T) {
	t.Parallel()
	key := wixtest.GenerateKey(t)
	pemText := string(wixtest.PublicKeyPEM(t, &key.PublicKey))
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "wix.pem")
	if err := os.WriteFile(keyFile, []byte(pemText), 0o600); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })

	tests := []struct {
		name    string
		edit    func(*server.Config)
		wantErr error
	}{
		{"PEM text", func(*server.Config) {}, nil},
		{"PEM with escaped line breaks", func(c *server.Config) { c.WixPublicKey = strings.ReplaceAll(pemText, "\n", `\n`) }, nil},
		{"key file", func(c *server.Config) { c.WixPublicKey, c.WixPublicKeyFile = "", keyFile }, nil},
		{"missing key file", func(c *server.Config) { c.WixPublicKey, c.WixPublicKeyFile = "", filepath.Join(dir, "none.pem") }, os.ErrNotExist},
		{"not a key", func(c *server.Config) { c.WixPublicKey = "hello" }, wix.ErrKey},
		{"address in use", func(c *server.Config) { c.HTTPAddr = busy.Addr().String() }, errAny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig(pemText)
			tc.edit(&c)
			srv, err := server.New(c, server.Deps{Publisher: answeringPublisher{}})
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if srv.Addr() == "" || strings.HasSuffix(srv.Addr(), ":0") {
					t.Errorf("Addr() = %q, want the bound port", srv.Addr())
				}
				if err := srv.Close(); err != nil {
					t.Error(err)
				}
				return
			}
			if err == nil || (tc.wantErr != errAny && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("New error = %v, want %v", err, tc.wantErr)
			}
		})
	}
	if _, err := server.New(validConfig(pemText), server.Deps{}); !errors.Is(err, server.ErrConfig) {
		t.Errorf("New without a publisher = %v, want ErrConfig", err)
	}
}

// errAny stands for "some error" where the cause is the operating system's.
var errAny = errors.New("any error")
