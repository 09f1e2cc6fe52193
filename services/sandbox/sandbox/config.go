package sandbox

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"time"

	"gallerysync.dev/services/sandbox/wixsim"
)

// Mastodon limit profiles accepted by -mastodon-limits.
const (
	LimitsDocumented = "documented"
	LimitsUnlimited  = "unlimited"
)

// ErrConfig is wrapped by every configuration problem.
var ErrConfig = errors.New("sandbox config")

// Config configures a sandbox.
type Config struct {
	// Addr is the listen address; ":0" or "127.0.0.1:0" picks a free port.
	Addr string
	// WebhookURL receives the Wix emulator's signed webhooks; "" sends none.
	WebhookURL string
	// AppID and AppSecret are the Wix app's OAuth client credentials.
	AppID     string
	AppSecret string
	// KeyFile holds the PEM private key that signs webhooks; it is generated
	// and written there when missing. "" keeps a generated key in memory.
	KeyFile string
	// MastodonLimits is LimitsDocumented or LimitsUnlimited.
	MastodonLimits string
	// WixRateLimit is the Wix requests allowed per app instance and minute;
	// negative means unlimited.
	WixRateLimit int
	// MediaReadyAfter is how long a Wix import stays PENDING before it
	// becomes READY or FAILED; 0 settles it as soon as it is fetched.
	MediaReadyAfter time.Duration
	// WixRetry is the webhook resend schedule; nil is Wix's own (+1 min ...
	// +12 h). Tests that exercise retries pass a compressed one.
	WixRetry []time.Duration
}

// RegisterFlags binds the fields to fs with their defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8090", "listen address of the sandbox")
	fs.StringVar(&c.WebhookURL, "webhook-url", "http://127.0.0.1:8080/webhooks/wix", "where the Wix emulator POSTs webhooks; empty sends none")
	fs.StringVar(&c.AppID, "wix-app-id", "gallerysync-demo-app", "Wix app id (OAuth client_id) the emulator accepts")
	fs.StringVar(&c.AppSecret, "wix-app-secret", "demo-secret", "Wix app secret (OAuth client_secret) the emulator accepts")
	fs.StringVar(&c.KeyFile, "wix-key-file", "", "PEM RSA private key that signs webhooks; generated and written there if missing; empty keeps a generated key in memory")
	fs.StringVar(&c.MastodonLimits, "mastodon-limits", LimitsDocumented, "Mastodon rate limits: documented or unlimited")
	fs.IntVar(&c.WixRateLimit, "wix-rate-limit", 200, "Wix requests per app instance and minute; negative means unlimited")
	fs.DurationVar(&c.MediaReadyAfter, "wix-media-ready-after", wixsim.DefaultMediaReadyAfter, "how long a Wix Media Manager import stays PENDING; 0 settles it as soon as it is fetched")
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	if c.Addr == "" {
		return fmt.Errorf("%w: -addr is empty", ErrConfig)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("%w: -addr %q: %v", ErrConfig, c.Addr, err)
	}
	if c.WebhookURL != "" {
		u, err := url.Parse(c.WebhookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: -webhook-url %q is not an absolute http(s) URL", ErrConfig, c.WebhookURL)
		}
	}
	if c.AppID == "" || c.AppSecret == "" {
		return fmt.Errorf("%w: -wix-app-id and -wix-app-secret must not be empty", ErrConfig)
	}
	if c.MastodonLimits != LimitsDocumented && c.MastodonLimits != LimitsUnlimited {
		return fmt.Errorf("%w: -mastodon-limits %q: want %s or %s", ErrConfig, c.MastodonLimits, LimitsDocumented, LimitsUnlimited)
	}
	if c.WixRateLimit == 0 {
		return fmt.Errorf("%w: -wix-rate-limit 0 would refuse every call; use a negative value for unlimited", ErrConfig)
	}
	if c.MediaReadyAfter < 0 {
		return fmt.Errorf("%w: -wix-media-ready-after %v is negative", ErrConfig, c.MediaReadyAfter)
	}
	return nil
}
