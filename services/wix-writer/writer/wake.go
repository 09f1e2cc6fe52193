package writer

import (
	"log/slog"
	"sync"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"

	"gallerysync.dev/libs/change"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// wakers lets a writer waiting for a Media Manager file to finish
// processing hear about it from the File Ready/Failed webhook instead of
// only from its next poll. A missed or absent wake-up costs nothing but
// latency: the wait polls anyway.
type wakers struct {
	mu      sync.Mutex
	waiting map[string]map[chan struct{}]struct{}
}

func newWakers() *wakers {
	return &wakers{waiting: map[string]map[chan struct{}]struct{}{}}
}

// fileKey scopes a file id to its tenant: file ids are Wix's, and a
// tenant's event must never wake another tenant's wait.
func fileKey(tenant, fileID string) string { return tenant + "\x00" + fileID }

// register returns a channel that receives when the file's state changes,
// and the function that stops listening (call it when the wait is over).
func (w *wakers) register(tenant, fileID string) (<-chan struct{}, func()) {
	k := fileKey(tenant, fileID)
	// One buffered slot: a wake-up that arrives while the waiter is busy
	// polling is kept, and several collapse into one.
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	if w.waiting[k] == nil {
		w.waiting[k] = map[chan struct{}]struct{}{}
	}
	w.waiting[k][ch] = struct{}{}
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.waiting[k], ch)
		if len(w.waiting[k]) == 0 {
			delete(w.waiting, k)
		}
	}
}

// wake tells every waiter of the file to look again. It never blocks.
func (w *wakers) wake(tenant, fileID string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for ch := range w.waiting[fileKey(tenant, fileID)] {
		select {
		case ch <- struct{}{}:
		default:
		}
		n++
	}
	return n
}

// onMediaMessage is the handler of the core NATS subscription to media
// events. JetStream stores these events, and a plain subscriber on the
// same subjects gets a copy of each as it is published.
func (w *Writer) onMediaMessage(msg *nats.Msg) {
	ev := &gsv1.ChangeEvent{}
	if err := proto.Unmarshal(msg.Data, ev); err != nil {
		w.log.Debug("undecodable media event", slog.String("subject", msg.Subject), slog.Any("error", err))
		return
	}
	if !change.IsMediaKind(ev.GetKind()) || ev.GetMedia().GetFileId() == "" {
		return
	}
	if n := w.wakers.wake(ev.GetTenantId(), ev.GetMedia().GetFileId()); n > 0 {
		w.log.Debug("media event woke waiters", slog.String("file_id", ev.GetMedia().GetFileId()),
			slog.String("kind", ev.GetKind().String()), slog.Int("waiters", n))
	}
}
