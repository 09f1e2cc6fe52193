// Package seal encrypts connection credentials at rest with AES-256-GCM.
// The additional data names what a blob belongs to (tenant and connection),
// so a blob copied onto another record does not open.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// KeySize is the length of a sealing key: AES-256.
const KeySize = 32

// version leads every sealed blob, so the format (or the key scheme) can
// change later without guessing what an old blob is.
const version byte = 1

// ErrOpen means a blob did not open: it was changed, sealed with another key,
// or belongs to other additional data. The reasons are deliberately not told apart.
var ErrOpen = errors.New("sealed data does not open")

// Sealer seals and opens blobs with one key. It is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// New returns a Sealer for a KeySize-byte key.
func New(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("sealing key has %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// DecodeKey decodes a base64 key (standard or URL alphabet, padded or not)
// and checks its length.
func DecodeKey(encoded string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(encoded); err == nil {
			if len(key) != KeySize {
				return nil, fmt.Errorf("sealing key has %d bytes, want %d", len(key), KeySize)
			}
			return key, nil
		}
	}
	return nil, errors.New("sealing key is not base64")
}

// Seal encrypts plain under a fresh random nonce, bound to additionalData.
func (s *Sealer) Seal(plain, additionalData []byte) ([]byte, error) {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:], plain, additionalData), nil
}

// Open decrypts a blob from Seal given the same additionalData, or returns ErrOpen.
func (s *Sealer) Open(sealed, additionalData []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n+s.aead.Overhead() || sealed[0] != version {
		return nil, ErrOpen
	}
	plain, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], additionalData)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
