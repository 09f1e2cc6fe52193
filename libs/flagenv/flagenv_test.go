package flagenv

import (
	"flag"
	"io"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		addr    string
		timeout time.Duration
		wantErr bool
	}{
		{name: "defaults", addr: ":80", timeout: time.Second},
		{name: "env sets", env: map[string]string{"GALLERYSYNC_HTTP_ADDR": ":90", "GALLERYSYNC_WRITE_TIMEOUT": "3s"}, addr: ":90", timeout: 3 * time.Second},
		{name: "flag wins over env", args: []string{"-http-addr", ":70"}, env: map[string]string{"GALLERYSYNC_HTTP_ADDR": ":90"}, addr: ":70", timeout: time.Second},
		{name: "bad env value", env: map[string]string{"GALLERYSYNC_WRITE_TIMEOUT": "soon"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			addr := fs.String("http-addr", ":80", "")
			timeout := fs.Duration("write-timeout", time.Second, "")
			err := Parse(fs, tt.args, func(k string) string { return tt.env[k] })
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if *addr != tt.addr || *timeout != tt.timeout {
				t.Fatalf("got %q %v, want %q %v", *addr, *timeout, tt.addr, tt.timeout)
			}
		})
	}
}
