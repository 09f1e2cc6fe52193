package server_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkWixWebhook posts signed webhooks from parallel clients through the
// whole path: verify, normalize, publish to a real JetStream and wait for its
// ack. Events cycle through a pool of distinct ids, so once the pool is used
// up the rest are Wix-style retries answered by JetStream's dedup.
func BenchmarkWixWebhook(b *testing.B) {
	h := startIngress(b, withLogLevel(slog.LevelWarn))
	const pool = 512
	bodies := make([][]byte, pool)
	for i := range bodies {
		bodies[i] = hook(fmt.Sprintf("bench-%d", i), fmt.Sprintf("item-%d", i)).Sign(b, h.key)
	}
	url := h.url("/webhooks/wix")
	var (
		next      atomic.Int64
		mu        sync.Mutex
		latencies []time.Duration
	)
	// Wix delivers many webhooks at once: by default 16 senders per core
	// (GALLERYSYNC_BENCH_PARALLELISM sets another number).
	par := 16
	if v, err := strconv.Atoi(os.Getenv("GALLERYSYNC_BENCH_PARALLELISM")); err == nil && v > 0 {
		par = v
	}
	b.SetParallelism(par)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			body := bodies[next.Add(1)%pool]
			t0 := time.Now()
			resp, err := h.client.Post(url, "text/plain", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d, want 200", resp.StatusCode)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		latencies = append(latencies, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(latencies) == 0 {
		return
	}
	slices.Sort(latencies)
	quantile := func(q float64) float64 {
		return float64(latencies[int(q*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "webhooks/s")
	b.ReportMetric(quantile(0.50), "p50-ms")
	b.ReportMetric(quantile(0.99), "p99-ms")
}
