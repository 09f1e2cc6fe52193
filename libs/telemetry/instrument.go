package telemetry

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"google.golang.org/grpc/stats"
)

// HTTPTransport wraps base (nil: http.DefaultTransport) so every outgoing
// call to a remote API (Wix, a platform) is a client span in the caller's
// trace, carries the W3C trace context and is measured by status code.
func (t *Telemetry) HTTPTransport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return otelhttp.NewTransport(base,
		otelhttp.WithTracerProvider(t.tracer),
		otelhttp.WithMeterProvider(t.meter),
		otelhttp.WithPropagators(t.propagator),
	)
}

// GRPCClientHandler makes every outgoing gRPC call (to the mapping service) a
// client span that carries the trace to the server.
func (t *Telemetry) GRPCClientHandler() stats.Handler {
	return otelgrpc.NewClientHandler(
		otelgrpc.WithTracerProvider(t.tracer),
		otelgrpc.WithMeterProvider(t.meter),
		otelgrpc.WithPropagators(t.propagator),
	)
}

// GRPCServerHandler makes every incoming gRPC call a server span continuing
// the caller's trace.
func (t *Telemetry) GRPCServerHandler() stats.Handler {
	return otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(t.tracer),
		otelgrpc.WithMeterProvider(t.meter),
		otelgrpc.WithPropagators(t.propagator),
	)
}
