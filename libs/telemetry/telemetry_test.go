package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// newTelemetry builds Telemetry for a test and shuts it down at the end.
func newTelemetry(t *testing.T, cfg Config, out io.Writer, opts ...Option) *Telemetry {
	t.Helper()
	if cfg.ServiceName == "" {
		cfg.ServiceName = "test-service"
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = "info"
	}
	tel, err := New(context.Background(), cfg, out, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tel.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return tel
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"defaults", Config{ServiceName: "ingress", LogLevel: "info"}, false},
		{"debug level", Config{ServiceName: "ingress", LogLevel: "debug"}, false},
		{"host port endpoint", Config{ServiceName: "ingress", LogLevel: "warn", OTLPEndpoint: "otel:4317"}, false},
		{"http endpoint", Config{ServiceName: "ingress", LogLevel: "info", OTLPEndpoint: "http://otel:4317"}, false},
		{"https endpoint", Config{ServiceName: "ingress", LogLevel: "info", OTLPEndpoint: "https://otel.example:443"}, false},
		{"no service name", Config{LogLevel: "info"}, true},
		{"unknown level", Config{ServiceName: "ingress", LogLevel: "loud"}, true},
		{"endpoint without port", Config{ServiceName: "ingress", LogLevel: "info", OTLPEndpoint: "otel"}, true},
		{"endpoint with bad scheme", Config{ServiceName: "ingress", LogLevel: "info", OTLPEndpoint: "ftp://otel:4317"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate() = %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}

func TestRegisterFlags(t *testing.T) {
	t.Parallel()
	cfg := Config{ServiceName: "mapping"}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if cfg.OTLPEndpoint != "" || cfg.LogLevel != "info" {
		t.Fatalf("defaults: endpoint %q level %q, want \"\" and info", cfg.OTLPEndpoint, cfg.LogLevel)
	}
	if err := fs.Parse([]string{"-otlp-endpoint", "collector:4317", "-log-level", "debug"}); err != nil {
		t.Fatal(err)
	}
	if cfg.OTLPEndpoint != "collector:4317" || cfg.LogLevel != "debug" {
		t.Fatalf("parsed: endpoint %q level %q", cfg.OTLPEndpoint, cfg.LogLevel)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("parsed config invalid: %v", err)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	if _, err := New(context.Background(), Config{LogLevel: "info"}, io.Discard); err == nil {
		t.Fatal("New accepted a config without service name")
	}
}

// logLine logs one record through the service logger and returns it decoded.
func logLine(t *testing.T, log func(*slog.Logger), tel *Telemetry, buf *bytes.Buffer) map[string]any {
	t.Helper()
	buf.Reset()
	log(tel.Logger())
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log output %q is not one JSON object: %v", buf.String(), err)
	}
	return line
}

func TestLoggerAddsTraceIDs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	tel := newTelemetry(t, Config{}, &buf, WithSpanExporter(tracetest.NewInMemoryExporter()))

	ctx, span := tel.TracerProvider().Tracer("test").Start(context.Background(), "work")
	defer span.End()
	line := logLine(t, func(l *slog.Logger) { l.InfoContext(ctx, "inside a span") }, tel, &buf)
	sc := span.SpanContext()
	if line["trace_id"] != sc.TraceID().String() || line["span_id"] != sc.SpanID().String() {
		t.Fatalf("log line %v: want trace_id %s span_id %s", line, sc.TraceID(), sc.SpanID())
	}
	if line["service"] != "test-service" {
		t.Fatalf("log line %v: want service test-service", line)
	}

	line = logLine(t, func(l *slog.Logger) { l.InfoContext(context.Background(), "outside a span") }, tel, &buf)
	if _, ok := line["trace_id"]; ok {
		t.Fatalf("log line without span has a trace id: %v", line)
	}
}

func TestLoggerRedactsSecrets(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	tel := newTelemetry(t, Config{}, &buf)
	tests := []struct {
		name string
		attr slog.Attr
		path []string
		want string
	}{
		{"token", slog.String("access_token", "tok-123"), []string{"access_token"}, redacted},
		{"secret upper case", slog.String("ClientSecret", "s3"), []string{"ClientSecret"}, redacted},
		{"password", slog.String("password", "hunter2"), []string{"password"}, redacted},
		{"credential", slog.String("credentials", "c"), []string{"credentials"}, redacted},
		{"authorization header", slog.String("Authorization", "Bearer abc"), []string{"Authorization"}, redacted},
		{"non-string value", slog.Int("refresh_token", 42), []string{"refresh_token"}, redacted},
		{"inside a group", slog.Group("oauth", slog.String("token", "t")), []string{"oauth", "token"}, redacted},
		{"under a sensitive group", slog.Group("credential", slog.String("user", "u")), []string{"credential", "user"}, redacted},
		{"ordinary key kept", slog.String("tenant", "t-1"), []string{"tenant"}, "t-1"},
		{"ordinary key in group kept", slog.Group("item", slog.String("id", "i-1")), []string{"item", "id"}, "i-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := logLine(t, func(l *slog.Logger) { l.Info("event", tt.attr) }, tel, &buf)
			var v any = line
			for _, k := range tt.path {
				m, ok := v.(map[string]any)
				if !ok {
					t.Fatalf("log line %v has no %v", line, tt.path)
				}
				v = m[k]
			}
			if v != tt.want {
				t.Fatalf("%v = %v, want %q (line %s)", tt.path, v, tt.want, buf.String())
			}
		})
	}
}

func TestLoggerLevel(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	tel := newTelemetry(t, Config{LogLevel: "warn"}, &buf)
	tel.Logger().Info("quiet")
	if buf.Len() != 0 {
		t.Fatalf("info logged at level warn: %s", buf.String())
	}
	tel.Logger().Warn("loud")
	if !strings.Contains(buf.String(), "loud") {
		t.Fatalf("warn not logged at level warn: %q", buf.String())
	}
}

func TestMetricsHandlerServesCounter(t *testing.T) {
	t.Parallel()
	tel := newTelemetry(t, Config{}, io.Discard)
	counter, err := tel.MeterProvider().Meter("test").Int64Counter("gallerysync.test.events")
	if err != nil {
		t.Fatal(err)
	}
	counter.Add(context.Background(), 3)

	srv := httptest.NewServer(tel.MetricsHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("content type %q, want the Prometheus text format", ct)
	}
	var counterLine string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "gallerysync_test_events_total{") {
			counterLine = l
		}
	}
	if !strings.HasSuffix(counterLine, " 3") {
		t.Fatalf("counter line %q, want value 3 in:\n%s", counterLine, body)
	}
	if !strings.Contains(string(body), "\ngo_goroutines ") {
		t.Fatalf("no Go runtime metrics in:\n%s", body)
	}
}

func TestTwoInstancesKeepMetricsApart(t *testing.T) {
	t.Parallel()
	a := newTelemetry(t, Config{ServiceName: "a"}, io.Discard)
	b := newTelemetry(t, Config{ServiceName: "b"}, io.Discard)
	counter, err := a.MeterProvider().Meter("test").Int64Counter("gallerysync.only.in.a")
	if err != nil {
		t.Fatal(err)
	}
	counter.Add(context.Background(), 1)
	rec := httptest.NewRecorder()
	b.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if strings.Contains(rec.Body.String(), "gallerysync_only_in_a") {
		t.Fatal("a counter of one Telemetry shows in another's metrics")
	}
}

func TestSpansReachExporter(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	tel := newTelemetry(t, Config{}, io.Discard, WithSpanExporter(exp))
	_, span := tel.TracerProvider().Tracer("test").Start(context.Background(), "publish")
	span.End()
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Name != "publish" {
		t.Fatalf("exported spans %v, want one named publish", spans)
	}
	if v, _ := spans[0].Resource.Set().Value("service.name"); v.AsString() != "test-service" {
		t.Fatalf("span resource service.name %q, want test-service", v.AsString())
	}
}

func TestPropagatorRoundTrip(t *testing.T) {
	t.Parallel()
	tel := newTelemetry(t, Config{}, io.Discard, WithSpanExporter(tracetest.NewInMemoryExporter()))
	ctx, span := tel.TracerProvider().Tracer("test").Start(context.Background(), "outbound")
	defer span.End()
	carrier := propagation.MapCarrier{}
	tel.Propagator().Inject(ctx, carrier)
	if carrier["traceparent"] == "" {
		t.Fatalf("no traceparent injected: %v", carrier)
	}
	got := tel.Propagator().Extract(context.Background(), carrier)
	if id := trace.SpanContextFromContext(got).TraceID(); id != span.SpanContext().TraceID() {
		t.Fatalf("extracted trace id %s, want %s", id, span.SpanContext().TraceID())
	}
}

// traceCollector is an OTLP/gRPC trace collector that remembers span names.
type traceCollector struct {
	collectortrace.UnimplementedTraceServiceServer
	mu    sync.Mutex
	names []string
}

// Export implements the OTLP trace service.
func (c *traceCollector) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.names = append(c.names, s.GetName())
			}
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func (c *traceCollector) spanNames() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.names...)
}

func TestOTLPExportOnShutdown(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	col := &traceCollector{}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, col)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Stop()
		if err := <-served; err != nil {
			t.Errorf("collector: %v", err)
		}
	})

	tel, err := New(context.Background(), Config{ServiceName: "svc", LogLevel: "info", OTLPEndpoint: lis.Addr().String()}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	_, span := tel.TracerProvider().Tracer("test").Start(context.Background(), "batched")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tel.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := tel.Shutdown(ctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	if got := col.spanNames(); len(got) != 1 || got[0] != "batched" {
		t.Fatalf("collector received spans %v, want [batched]", got)
	}
}
