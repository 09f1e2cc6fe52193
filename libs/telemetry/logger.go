package telemetry

import (
	"context"
	"io"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// redacted replaces the value of every attribute that looks like a secret.
const redacted = "[redacted]"

// newLogger writes JSON lines to out at level, stamped with the service name
// and, when the context carries a span, its trace and span ids so a log line
// leads to its trace.
func newLogger(out io.Writer, level slog.Level, service string) *slog.Logger {
	json := slog.NewJSONHandler(out, &slog.HandlerOptions{Level: level, ReplaceAttr: redact})
	return slog.New(traceHandler{Handler: json}).With(slog.String("service", service))
}

// redact hides values whose key, or any enclosing group's key, names a secret.
func redact(groups []string, a slog.Attr) slog.Attr {
	if isSensitive(a.Key) {
		return slog.String(a.Key, redacted)
	}
	for _, g := range groups {
		if isSensitive(g) {
			return slog.String(a.Key, redacted)
		}
	}
	return a
}

// isSensitive reports whether a key names something that must never reach a
// log line.
func isSensitive(key string) bool {
	k := strings.ToLower(key)
	for _, w := range [...]string{"token", "secret", "password", "credential", "authorization"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// traceHandler adds trace_id and span_id of the context's span to each record.
type traceHandler struct {
	slog.Handler
}

// Handle implements slog.Handler.
func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(
			slog.String("trace_id", sc.TraceID().String()),
			slog.String("span_id", sc.SpanID().String()),
		)
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return traceHandler{Handler: h.Handler.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{Handler: h.Handler.WithGroup(name)}
}
