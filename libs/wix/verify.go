package wix

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultLeeway is how far past its exp claim a webhook is still accepted,
// to absorb clock skew between Wix and us.
const DefaultLeeway = 5 * time.Minute

// Verifier authenticates Wix webhooks with the app's public key. Wix posts
// the whole body as one RS256 JWS and there is one key per app (no key ids,
// no JWKS), so a Verifier holds exactly one key. It is safe for concurrent use.
type Verifier struct {
	key    *rsa.PublicKey
	parser *jwt.Parser
	now    func() time.Time
}

// VerifierOption tunes a Verifier.
type VerifierOption func(*verifierConfig)

type verifierConfig struct {
	now    func() time.Time
	leeway time.Duration
}

// WithClock sets the clock that exp is checked against and that stamps
// Envelope.ReceivedAt; tests pin it.
func WithClock(now func() time.Time) VerifierOption {
	return func(c *verifierConfig) { c.now = now }
}

// WithLeeway sets the clock skew allowed on exp (default DefaultLeeway).
func WithLeeway(d time.Duration) VerifierOption {
	return func(c *verifierConfig) { c.leeway = d }
}

// NewVerifier returns a Verifier for the app's public key (see ParsePublicKey).
func NewVerifier(key *rsa.PublicKey, opts ...VerifierOption) *Verifier {
	cfg := verifierConfig{now: time.Now, leeway: DefaultLeeway}
	for _, o := range opts {
		o(&cfg)
	}
	return &Verifier{
		key: key,
		now: cfg.now,
		// Pinning the method list is what refuses "alg":"none", HS256 keyed
		// with the public key bytes, and any other algorithm an attacker picks.
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
			jwt.WithLeeway(cfg.leeway),
			jwt.WithTimeFunc(cfg.now),
		),
	}
}

// Verify checks that body is a webhook signed by the app's key and still
// valid, then decodes its envelope. Errors wrap ErrSignature when the token is
// not authentic or has expired, and ErrMalformed when an authentic token
// carries an envelope or event that cannot be decoded.
func (v *Verifier) Verify(body []byte) (*Envelope, error) {
	if v == nil || v.key == nil {
		return nil, fmt.Errorf("%w: no verification key", ErrSignature)
	}
	token := string(bytes.TrimSpace(body))
	if token == "" {
		return nil, fmt.Errorf("%w: empty body", ErrSignature)
	}
	var claims deferredClaims
	if _, err := v.parser.ParseWithClaims(token, &claims, v.keyFor); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSignature, err)
	}
	// Only now, with the signature checked, are the claims read.
	var outer struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(claims.raw, &outer); err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	env, err := decodeEnvelope(outer.Data)
	if err != nil {
		return nil, err
	}
	// The validator already decoded the registered claims to check exp.
	if rc, err := claims.registered(); err == nil && rc.IssuedAt != nil {
		env.IssuedAt = rc.IssuedAt.UTC()
	}
	env.ReceivedAt = v.now().UTC()
	return env, nil
}

func (v *Verifier) keyFor(*jwt.Token) (any, error) { return v.key, nil }

// deferredClaims keeps the claim set as raw bytes while the parser checks the
// signature, and decodes it only when the validator asks for a registered
// claim, which the parser does after the signature passed. So nothing in an
// unauthenticated payload is interpreted; encoding/json merely checks that it
// is syntactically JSON before handing the bytes over.
type deferredClaims struct {
	raw     []byte
	decoded *jwt.RegisteredClaims
}

// UnmarshalJSON stores the claim set undecoded.
func (c *deferredClaims) UnmarshalJSON(b []byte) error {
	c.raw = append(c.raw[:0], b...)
	c.decoded = nil
	return nil
}

func (c *deferredClaims) registered() (*jwt.RegisteredClaims, error) {
	if c.decoded == nil {
		var rc jwt.RegisteredClaims
		if err := json.Unmarshal(c.raw, &rc); err != nil {
			return nil, fmt.Errorf("registered claims: %w", err)
		}
		c.decoded = &rc
	}
	return c.decoded, nil
}

// GetExpirationTime implements jwt.Claims.
func (c *deferredClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	rc, err := c.registered()
	if err != nil {
		return nil, err
	}
	return rc.GetExpirationTime()
}

// GetIssuedAt implements jwt.Claims.
func (c *deferredClaims) GetIssuedAt() (*jwt.NumericDate, error) {
	rc, err := c.registered()
	if err != nil {
		return nil, err
	}
	return rc.GetIssuedAt()
}

// GetNotBefore implements jwt.Claims.
func (c *deferredClaims) GetNotBefore() (*jwt.NumericDate, error) {
	rc, err := c.registered()
	if err != nil {
		return nil, err
	}
	return rc.GetNotBefore()
}

// GetIssuer implements jwt.Claims.
func (c *deferredClaims) GetIssuer() (string, error) {
	rc, err := c.registered()
	if err != nil {
		return "", err
	}
	return rc.GetIssuer()
}

// GetSubject implements jwt.Claims.
func (c *deferredClaims) GetSubject() (string, error) {
	rc, err := c.registered()
	if err != nil {
		return "", err
	}
	return rc.GetSubject()
}

// GetAudience implements jwt.Claims.
func (c *deferredClaims) GetAudience() (jwt.ClaimStrings, error) {
	rc, err := c.registered()
	if err != nil {
		return nil, err
	}
	return rc.GetAudience()
}
