// Package telemetry builds the logger, tracer provider, meter provider and
// metrics endpoint a service reports through. Nothing here touches the OTel
// globals: a service passes its providers to the components that need them,
// so two services in one process keep their telemetry apart.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Option changes how New builds Telemetry.
type Option func(*options)

type options struct {
	spanExporter sdktrace.SpanExporter
}

// WithSpanExporter also sends every span to e, synchronously as each span
// ends, so a test sees its spans without waiting for a batch.
func WithSpanExporter(e sdktrace.SpanExporter) Option {
	return func(o *options) { o.spanExporter = e }
}

// Telemetry holds one service's logger and providers.
type Telemetry struct {
	logger     *slog.Logger
	tracer     *sdktrace.TracerProvider
	meter      *sdkmetric.MeterProvider
	propagator propagation.TextMapPropagator
	metrics    http.Handler

	shutdownOnce sync.Once
	shutdownErr  error
}

// New builds the telemetry of one service. Logs go to logOut as JSON lines.
func New(ctx context.Context, cfg Config, logOut io.Writer, opts ...Option) (*Telemetry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	level, _ := cfg.level()
	col, _ := cfg.endpoint()

	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(semconv.ServiceName(cfg.ServiceName)),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
	)
	if err != nil {
		return nil, fmt.Errorf("telemetry resource: %w", err)
	}

	tpOpts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if col.hostPort != "" {
		grpcOpts := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(col.hostPort)}
		if col.insecure {
			grpcOpts = append(grpcOpts, otlptracegrpc.WithInsecure())
		}
		exp, err := otlptracegrpc.New(ctx, grpcOpts...)
		if err != nil {
			return nil, fmt.Errorf("otlp trace exporter %s: %w", cfg.OTLPEndpoint, err)
		}
		tpOpts = append(tpOpts, sdktrace.WithBatcher(exp))
	}
	if o.spanExporter != nil {
		tpOpts = append(tpOpts, sdktrace.WithSyncer(o.spanExporter))
	}
	tp := sdktrace.NewTracerProvider(tpOpts...)

	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, errors.Join(fmt.Errorf("register collector: %w", err), tp.Shutdown(ctx))
		}
	}
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("prometheus exporter: %w", err), tp.Shutdown(ctx))
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(exporter))

	return &Telemetry{
		logger: newLogger(logOut, level, cfg.ServiceName),
		tracer: tp,
		meter:  mp,
		propagator: propagation.NewCompositeTextMapPropagator(
			propagation.TraceContext{}, propagation.Baggage{},
		),
		metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
	}, nil
}

// Logger writes JSON lines with trace ids and secrets redacted.
func (t *Telemetry) Logger() *slog.Logger { return t.logger }

// TracerProvider creates the service's tracers.
func (t *Telemetry) TracerProvider() trace.TracerProvider { return t.tracer }

// MeterProvider creates the service's meters; its metrics are served by
// MetricsHandler.
func (t *Telemetry) MeterProvider() metric.MeterProvider { return t.meter }

// Propagator carries trace context and baggage across process boundaries
// (W3C traceparent, tracestate and baggage).
func (t *Telemetry) Propagator() propagation.TextMapPropagator { return t.propagator }

// MetricsHandler serves the service's metrics, plus Go runtime and process
// metrics, in the Prometheus text format.
func (t *Telemetry) MetricsHandler() http.Handler { return t.metrics }

// Shutdown exports what is buffered and stops the providers. Later calls
// return the first call's result.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	t.shutdownOnce.Do(func() {
		var errs []error
		if err := t.tracer.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down tracer provider: %w", err))
		}
		if err := t.meter.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down meter provider: %w", err))
		}
		t.shutdownErr = errors.Join(errs...)
	})
	return t.shutdownErr
}
