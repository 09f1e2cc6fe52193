package wix

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// ErrKey is wrapped when a public key cannot be used for webhook verification.
var ErrKey = errors.New("wix public key")

// minKeyBits refuses keys too short to be trusted; Wix issues 2048-bit keys.
const minKeyBits = 2048

// ParsePublicKey reads the app's webhook public key as shown in the Wix app
// dashboard: a PEM block of type "PUBLIC KEY" (PKIX) or "RSA PUBLIC KEY"
// (PKCS #1). Anything else, including a PKIX key that is not RSA, is refused.
func ParsePublicKey(pemBytes []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block found", ErrKey)
	}
	var key *rsa.PublicKey
	switch block.Type {
	case "PUBLIC KEY":
		parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrKey, err)
		}
		k, ok := parsed.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: PKIX key is %T, want RSA", ErrKey, parsed)
		}
		key = k
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrKey, err)
		}
		key = k
	default:
		return nil, fmt.Errorf("%w: PEM block %q, want PUBLIC KEY or RSA PUBLIC KEY", ErrKey, block.Type)
	}
	if key.N.BitLen() < minKeyBits {
		return nil, fmt.Errorf("%w: %d-bit RSA key, want at least %d", ErrKey, key.N.BitLen(), minKeyBits)
	}
	return key, nil
}
