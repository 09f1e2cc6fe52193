package stack

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"gallerysync.dev/libs/telemetry"
)

// BenchmarkWixChangeToPlatformWrite measures how long a Wix change takes to
// become a platform write: from the moment ingress receives the signed
// webhook to the end of the status create on the (zero-latency) Mastodon
// emulator, read from the spans of each change's trace. Webhooks are sent at
// 1,000 a second (GALLERYSYNC_BENCH_RATE sets another rate); each creates a
// new item.
func BenchmarkWixChangeToPlatformWrite(b *testing.B) {
	exp := tracetest.NewInMemoryExporter()
	s := startStackWith(b, []telemetry.Option{telemetry.WithSpanExporter(exp)},
		func(c *Config) { c.MastodonLimits = "unlimited" })
	d := s.Demo()
	key := readKey(b, filepath.Join(s.cfg.DataDir, "wix-app-key.pem"))
	bodies := make([]string, b.N)
	for i := range bodies {
		bodies[i] = signedItemCreated(b, key, d, fmt.Sprintf("Bench %d %d", i, time.Now().UnixNano()))
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	url := d.IngressURL + "/webhooks/wix"

	b.ResetTimer()
	start := time.Now()
	rate := 1000
	if v, err := strconv.Atoi(os.Getenv("GALLERYSYNC_BENCH_RATE")); err == nil && v > 0 {
		rate = v
	}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	var wg sync.WaitGroup
	for _, body := range bodies {
		<-tick.C
		wg.Go(func() {
			resp, err := client.Post(url, "text/plain", strings.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
			}
		})
	}
	tick.Stop()
	wg.Wait()
	deadline := time.Now().Add(time.Minute)
	for s.Sandbox().Mastodon().Stats().StatusesCreated < int64(b.N) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()

	lat := latencies(exp.GetSpans())
	if len(lat) < b.N {
		b.Fatalf("%d of %d changes reached the platform", len(lat), b.N)
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "changes/s")
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// latencies pairs each trace's ingress request with its status create.
func latencies(spans tracetest.SpanStubs) []time.Duration {
	received := map[string]time.Time{}
	written := map[string]time.Time{}
	for _, sp := range spans {
		id := sp.SpanContext.TraceID().String()
		switch {
		case strings.Contains(sp.Name, "/webhooks/wix") && sp.SpanKind.String() == "server":
			received[id] = sp.StartTime
		case isStatusCreate(sp):
			written[id] = sp.EndTime
		}
	}
	var out []time.Duration
	for id, end := range written {
		if begin, ok := received[id]; ok {
			out = append(out, end.Sub(begin))
		}
	}
	return out
}
