package wix

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"gallerysync.dev/libs/wix/wixtest"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// normalizeSigned signs hook with key, verifies and normalizes it.
func normalizeSigned(t *testing.T, key *rsa.PrivateKey, hook wixtest.Webhook, opts ...NormalizeOption) (*gsv1.ChangeEvent, error) {
	t.Helper()
	env, err := NewVerifier(&key.PublicKey, WithClock(testReceivedAt)).Verify(hook.Sign(t, key))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return Normalize(env, opts...)
}

func TestLifecycleEventIDDedupsRetriesNotReinstalls(t *testing.T) {
	t.Parallel()
	key := wixtest.GenerateKey(t)
	iat := testIssuedAt()
	base := func() wixtest.Webhook {
		h := webhook(EventAppInstalled, wixtest.AppPayload(appID, ""), nil)
		h.IssuedAt = iat
		return h
	}
	tests := []struct {
		name string
		// first and second are two deliveries.
		first, second func() wixtest.Webhook
		same          bool
	}{
		{"a retry of one delivery, signed anew", base, base, true},
		{"a retry without iat", func() wixtest.Webhook {
			h := base()
			h.IssuedAt = time.Time{}
			return h
		}, func() wixtest.Webhook {
			h := base()
			h.IssuedAt = time.Time{}
			return h
		}, true},
		{"a reinstall an hour later", base, func() wixtest.Webhook {
			h := base()
			h.IssuedAt = iat.Add(time.Hour)
			return h
		}, false},
		{"removal in the same second", base, func() wixtest.Webhook {
			h := base()
			h.EventType = EventAppRemoved
			return h
		}, false},
		{"another site", base, func() wixtest.Webhook {
			h := base()
			h.InstanceID = "0f1e2d3c-4b5a-4968-8776-655443322110"
			return h
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, errA := normalizeSigned(t, key, tc.first())
			b, errB := normalizeSigned(t, key, tc.second())
			if errA != nil || errB != nil {
				t.Fatalf("Normalize: %v, %v", errA, errB)
			}
			if a.GetEventId() == "" || b.GetEventId() == "" {
				t.Fatalf("empty event ids %q, %q", a.GetEventId(), b.GetEventId())
			}
			if same := a.GetEventId() == b.GetEventId(); same != tc.same {
				t.Errorf("event ids %q and %q: same = %v, want %v", a.GetEventId(), b.GetEventId(), same, tc.same)
			}
		})
	}
}

func TestLifecycleAppIDCheck(t *testing.T) {
	t.Parallel()
	key := wixtest.GenerateKey(t)
	foreign := webhook(EventAppInstalled, wixtest.AppPayload(otherAppID, ""), nil)
	tests := []struct {
		name string
		opts []NormalizeOption
		err  error
	}{
		{"no app id configured accepts any app", nil, nil},
		{"an empty app id configured accepts any app", []NormalizeOption{WithAppID("")}, nil},
		{"our app id configured refuses another app", []NormalizeOption{WithAppID(appID)}, ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := normalizeSigned(t, key, foreign, tc.opts...)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (ev != nil) {
				t.Fatalf("Normalize = %v, %v; want error %v", ev, err, tc.err)
			}
			if ev != nil && ev.GetKind() != gsv1.ChangeKind_CHANGE_KIND_APP_INSTALLED {
				t.Errorf("kind %v, want APP_INSTALLED", ev.GetKind())
			}
		})
	}
}

func TestEnvelopeOfBarePayload(t *testing.T) {
	t.Parallel()
	key := wixtest.GenerateKey(t)
	payload := wixtest.AppPayload(appID, originInstance)
	hook := webhook(EventAppInstalled, payload, nil)
	hook.IssuedAt = testIssuedAt()
	env, err := NewVerifier(&key.PublicKey, WithClock(testReceivedAt)).Verify(hook.Sign(t, key))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if env.HasDomainEvent() {
		t.Errorf("envelope has DomainEvent %+v, want none", env.Event)
	}
	var got map[string]any
	if err := json.Unmarshal(env.Data, &got); err != nil || got["appId"] != appID || got["originInstanceId"] != originInstance {
		t.Errorf("Data = %s (%v), want the payload %v", env.Data, err, payload)
	}
	if !env.IssuedAt.Equal(testIssuedAt()) || !env.ReceivedAt.Equal(testReceivedAt()) {
		t.Errorf("IssuedAt %v ReceivedAt %v, want %v %v", env.IssuedAt, env.ReceivedAt, testIssuedAt(), testReceivedAt())
	}
}
