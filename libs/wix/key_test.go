package wix

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"

	"gallerysync.dev/libs/wix/wixtest"
)

func TestParsePublicKey(t *testing.T) {
	t.Parallel()
	key := wixtest.GenerateKey(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	short, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	encode := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }

	tests := []struct {
		name    string
		pem     []byte
		wantErr bool
	}{
		{"PKIX PUBLIC KEY", wixtest.PublicKeyPEM(t, &key.PublicKey), false},
		{"PKCS1 RSA PUBLIC KEY", encode("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&key.PublicKey)), false},
		{"PEM with surrounding text", append([]byte("Wix app public key:\n"), wixtest.PublicKeyPEM(t, &key.PublicKey)...), false},
		{"empty", nil, true},
		{"not PEM", []byte("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"), true},
		{"private key", encode("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)), true},
		{"EC key", encode("PUBLIC KEY", ecDER), true},
		{"1024-bit RSA key", encode("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&short.PublicKey)), true},
		{"corrupt DER", encode("PUBLIC KEY", []byte{0x30, 0x03, 0x01}), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParsePublicKey(tc.pem)
			if tc.wantErr {
				if got != nil || !errors.Is(err, ErrKey) {
					t.Fatalf("ParsePublicKey = %v, %v; want ErrKey", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(&key.PublicKey) {
				t.Error("parsed key differs from the generated one")
			}
		})
	}
}
