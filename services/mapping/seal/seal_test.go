package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return key
}

func newSealer(t *testing.T, key []byte) *Sealer {
	t.Helper()
	s, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	s := newSealer(t, newKey(t))
	cases := []struct {
		name  string
		plain []byte
	}{
		{"token", []byte("Bearer abc.def")},
		{"empty", []byte{}},
		{"binary", []byte{0, 0xff, 0x10, 0}},
		{"large", bytes.Repeat([]byte("x"), 1<<16)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ad := []byte("tenant/connection")
			sealed, err := s.Seal(c.plain, ad)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.plain) > 0 && bytes.Contains(sealed, c.plain) {
				t.Fatal("sealed blob contains the plaintext")
			}
			again, err := s.Seal(c.plain, ad)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(sealed, again) {
				t.Fatal("sealing twice gave the same blob; nonces must differ")
			}
			got, err := s.Open(sealed, ad)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, c.plain) {
				t.Fatalf("opened %q, want %q", got, c.plain)
			}
		})
	}
}

func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	s := newSealer(t, key)
	ad := []byte("tenant-a/conn-1")
	sealed, err := s.Seal([]byte("secret"), ad)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	cases := []struct {
		name   string
		sealer *Sealer
		blob   []byte
		ad     []byte
	}{
		{"other tenant", s, sealed, []byte("tenant-b/conn-1")},
		{"other connection", s, sealed, []byte("tenant-a/conn-2")},
		{"other key", newSealer(t, newKey(t)), sealed, ad},
		{"changed byte", s, flipped, ad},
		{"truncated", s, sealed[:10], ad},
		{"empty", s, nil, ad},
		{"unknown version", s, append([]byte{9}, sealed[1:]...), ad},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if _, err := c.sealer.Open(c.blob, c.ad); !errors.Is(err, ErrOpen) {
				t.Fatalf("Open error %v, want ErrOpen", err)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	good := []struct {
		name    string
		encoded string
	}{
		{"standard", base64.StdEncoding.EncodeToString(key)},
		{"standard unpadded", base64.RawStdEncoding.EncodeToString(key)},
		{"url", base64.URLEncoding.EncodeToString(key)},
		{"url unpadded", base64.RawURLEncoding.EncodeToString(key)},
	}
	for _, c := range good {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodeKey(c.encoded)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, key) {
				t.Fatal("decoded key differs")
			}
		})
	}
	bad := []struct {
		name    string
		encoded string
		want    string
	}{
		{"short", base64.StdEncoding.EncodeToString(key[:16]), "16 bytes, want 32"},
		{"not base64", "not*base64!", "not base64"},
		{"empty", "", "0 bytes"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeKey(c.encoded)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
	if _, err := New(key[:31]); err == nil {
		t.Fatal("New accepted a 31-byte key")
	}
}
