package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// keyBits is the size of generated webhook signing keys.
const keyBits = 2048

// loadOrCreateKey reads the webhook signing key from path, generating and
// writing one when the file does not exist. An empty path generates a key
// that lives only in memory.
func loadOrCreateKey(path string) (*rsa.PrivateKey, error) {
	if path == "" {
		return generateKey()
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		return parseKey(data)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read key %s: %w", path, err)
	}
	key, err := generateKey()
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	// O_EXCL: never overwrite a key another process wrote meanwhile.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create key %s: %w", path, err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, fmt.Errorf("write key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("write key %s: %w", path, err)
	}
	return key, nil
}

func generateKey() (*rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return key, nil
}

// parseKey reads a PEM RSA private key in PKCS#1 or PKCS#8 form.
func parseKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: key file holds no PEM block", ErrConfig)
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: parse PKCS#1 key: %v", ErrConfig, err)
		}
		return key, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: parse PKCS#8 key: %v", ErrConfig, err)
		}
		key, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: key is %T, want RSA (webhooks are RS256)", ErrConfig, k)
		}
		return key, nil
	default:
		return nil, fmt.Errorf("%w: PEM block %q is not a private key", ErrConfig, block.Type)
	}
}

// publicKeyPEM encodes the public half as a PKIX "PUBLIC KEY" block, the
// form Wix shows in the app dashboard.
func publicKeyPEM(key *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
