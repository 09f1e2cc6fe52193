package testkit

import (
	"testing"

	"github.com/nats-io/nats.go"
)

func TestNATSRestartKeepsStream(t *testing.T) {
	t.Parallel()
	n := StartNATS(t)
	nc, err := nats.Connect(n.URL(), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AddStream(&nats.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish("s.a", []byte("x")); err != nil {
		t.Fatal(err)
	}
	n.Restart()
	nc2, err := nats.Connect(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	js2, _ := nc2.JetStream()
	info, err := js2.StreamInfo("S")
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("after restart the stream has %d messages, want 1", info.State.Msgs)
	}
}

func TestRedisRestartServesAgain(t *testing.T) {
	t.Parallel()
	r := StartRedis(t)
	if err := r.ping(); err != nil {
		t.Fatal(err)
	}
	r.Restart()
	if err := r.ping(); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}
