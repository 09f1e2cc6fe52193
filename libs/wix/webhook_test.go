package wix

import (
	"errors"
	"testing"

	"gallerysync.dev/libs/change"
	"gallerysync.dev/libs/wix/wixtest"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

// sentinels are the errors a webhook can be refused with; every failure must
// wrap exactly one, since the HTTP status depends on which.
func sentinelsOf(err error) []error {
	var found []error
	for _, s := range []error{ErrSignature, ErrMalformed, ErrUnsupported} {
		if errors.Is(err, s) {
			found = append(found, s)
		}
	}
	return found
}

func TestWebhookCorpus(t *testing.T) {
	t.Parallel()
	key := wixtest.GenerateKey(t)
	pub, err := ParsePublicKey(wixtest.PublicKeyPEM(t, &key.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerifier(pub, WithClock(testReceivedAt))
	for _, tc := range webhookCorpus(t) {
		body := tc.hook.Sign(t, key)
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env, err := v.Verify(body)
			if err != nil {
				if tc.err == nil || !errors.Is(err, tc.err) {
					t.Fatalf("Verify: %v", err)
				}
				if s := sentinelsOf(err); len(s) != 1 {
					t.Errorf("error %v wraps %v, want exactly %v", err, s, tc.err)
				}
				return
			}
			if env.InstanceID != tc.hook.InstanceID || env.EventType != tc.hook.EventType || !env.IssuedAt.Equal(tc.hook.IssuedAt) {
				t.Errorf("envelope instance %q type %q iat %v, want %q %q %v",
					env.InstanceID, env.EventType, env.IssuedAt, tc.hook.InstanceID, tc.hook.EventType, tc.hook.IssuedAt)
			}
			got, err := Normalize(env, WithAppID(appID))
			if tc.err != nil {
				if got != nil || !errors.Is(err, tc.err) {
					t.Fatalf("Normalize = %v, %v; want error %v", got, err, tc.err)
				}
				if s := sentinelsOf(err); len(s) != 1 {
					t.Errorf("error %v wraps %v, want exactly %v", err, s, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if !proto.Equal(got, tc.want) {
				t.Errorf("Normalize =\n%v\nwant\n%v", prototext.Format(got), prototext.Format(tc.want))
			}
			if err := change.Validate(got); err != nil {
				t.Errorf("Validate: %v", err)
			}
			if s := change.Subject(got); s != tc.subject {
				t.Errorf("subject %q, want %q", s, tc.subject)
			}
		})
	}
}

func TestNormalizeIsStableAcrossRetries(t *testing.T) {
	t.Parallel()
	key := wixtest.GenerateKey(t)
	v := NewVerifier(&key.PublicKey)
	// Wix retries the same event; each delivery is signed anew.
	hook := webhookCorpus(t)[0].hook
	first, err := v.Verify(hook.Sign(t, key))
	if err != nil {
		t.Fatal(err)
	}
	second, err := v.Verify(hook.Sign(t, key))
	if err != nil {
		t.Fatal(err)
	}
	a, errA := Normalize(first)
	b, errB := Normalize(second)
	if errA != nil || errB != nil {
		t.Fatalf("Normalize: %v, %v", errA, errB)
	}
	if a.GetEventId() != b.GetEventId() || a.GetEventId() == "" {
		t.Errorf("event ids %q and %q, want the same dedup id", a.GetEventId(), b.GetEventId())
	}
	if !proto.Equal(a, b) {
		t.Errorf("two deliveries of one event normalize differently:\n%v\n%v", a, b)
	}
}

func TestNormalizeNil(t *testing.T) {
	t.Parallel()
	if _, err := Normalize(nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("Normalize(nil) = %v, want ErrMalformed", err)
	}
}
