package wix

import (
	"encoding/json"
	"errors"
	"testing"

	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/wix/wixtest"
	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/protobuf/proto"
)

// checkOutcome holds what must be true of any input: a failure wraps exactly
// one sentinel, and a success is an event the bus can carry.
func checkOutcome(t *testing.T, env *Envelope, err error) {
	t.Helper()
	if err != nil {
		if env != nil {
			t.Fatalf("error %v with a non-nil envelope", err)
		}
		if n := len(sentinelsOf(err)); n != 1 {
			t.Fatalf("error %v wraps %d sentinels, want 1", err, n)
		}
		return
	}
	ev, err := Normalize(env)
	if err != nil {
		if ev != nil || len(sentinelsOf(err)) != 1 || errors.Is(err, ErrSignature) {
			t.Fatalf("Normalize = %v, %v", ev, err)
		}
		return
	}
	if err := change.Validate(ev); err != nil {
		t.Fatalf("Normalize returned an invalid event: %v", err)
	}
	if _, err := proto.Marshal(ev); err != nil {
		t.Fatalf("Normalize returned an event that does not marshal: %v", err)
	}
}

// FuzzVerify feeds arbitrary request bodies to Verify. Seeds are the corpus
// signed with a key made here; in fuzz worker processes, which make their own
// key, they exercise the unauthenticated path that attackers reach.
func FuzzVerify(f *testing.F) {
	key := wixtest.GenerateKey(f)
	v := NewVerifier(&key.PublicKey)
	for _, tc := range webhookCorpus(f) {
		body := tc.hook.Sign(f, key)
		f.Add(body)
		f.Add(body[:len(body)/2])
	}
	claims := webhookCorpus(f)[0].hook.Claims(f)
	f.Add(wixtest.SignClaims(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims))
	f.Add(wixtest.SignClaims(f, jwt.SigningMethodHS256, wixtest.PublicKeyPEM(f, &key.PublicKey), claims))
	f.Add([]byte("..."))
	f.Add([]byte("e30.e30.e30"))
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := v.Verify(body)
		checkOutcome(t, env, err)
	})
}

// FuzzEnvelope feeds arbitrary data claims to the decoding that follows a
// valid signature, where Wix's nested layers are parsed and normalized.
func FuzzEnvelope(f *testing.F) {
	for _, tc := range webhookCorpus(f) {
		data, err := json.Marshal(tc.hook.Claims(f)["data"])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"instanceId":"t","data":"{\"id\":\"e\",\"actionEvent\":{\"bodyAsJson\":\"\\\"x\\\"\"}}"}`))
	f.Add([]byte(`"{\"instanceId\":\"t\",\"data\":{\"id\":\"e\"}}"`))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := decodeEnvelope(data)
		checkOutcome(t, env, err)
	})
}
