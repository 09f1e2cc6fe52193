package stack

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"gallerysync.dev/libs/telemetry"
	"gallerysync.dev/services/allinone/smoke"
)

// TestOneTracePerChange follows one Wix change through every service: the
// ingress request, the JetStream publish and consume, the writer, its calls to
// the mapping service (client and server side) and to the platform's API must
// all be spans of one trace, and none may carry a secret.
func TestOneTracePerChange(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	s := startStackWith(t, []telemetry.Option{telemetry.WithSpanExporter(exp)})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := smoke.Run(ctx, target(s.Demo()), smoke.Options{
		Within: 5 * time.Second, Settle: 500 * time.Millisecond, Nonce: fmt.Sprint(time.Now().UnixNano()),
	})
	if err != nil || !rep.Passed() {
		t.Fatalf("smoke: %v %+v", err, rep)
	}

	spans := exp.GetSpans()
	byTrace := map[string][]tracetest.SpanStub{}
	for _, sp := range spans {
		id := sp.SpanContext.TraceID().String()
		byTrace[id] = append(byTrace[id], sp)
	}
	// The trace of the item create: it holds the status create on Mastodon.
	var trace []tracetest.SpanStub
	for _, tr := range byTrace {
		for _, sp := range tr {
			if isStatusCreate(sp) {
				trace = tr
			}
		}
	}
	if trace == nil {
		t.Fatalf("no trace holds the status create; %d spans in %d traces", len(spans), len(byTrace))
	}
	t.Logf("trace of one change:\n%s", tree(trace))

	byID := map[string]tracetest.SpanStub{}
	for _, sp := range trace {
		byID[sp.SpanContext.SpanID().String()] = sp
	}
	parentOf := func(sp tracetest.SpanStub) (tracetest.SpanStub, bool) {
		p, ok := byID[sp.Parent.SpanID().String()]
		return p, ok && sp.Parent.IsValid()
	}
	find := func(match func(tracetest.SpanStub) bool) []tracetest.SpanStub {
		var out []tracetest.SpanStub
		for _, sp := range trace {
			if match(sp) {
				out = append(out, sp)
			}
		}
		return out
	}
	named := func(prefix string) func(tracetest.SpanStub) bool {
		return func(sp tracetest.SpanStub) bool { return strings.HasPrefix(sp.Name, prefix) }
	}

	roots := find(func(sp tracetest.SpanStub) bool { _, ok := parentOf(sp); return !ok })
	if len(roots) != 1 || !strings.Contains(roots[0].Name, "/webhooks/wix") {
		t.Fatalf("want one root, the ingress request; roots: %v", names(roots))
	}
	steps := []struct {
		name   string
		match  func(tracetest.SpanStub) bool
		parent func(tracetest.SpanStub) bool
	}{
		{"publish", named("send changes.wix"), func(p tracetest.SpanStub) bool { return p.Name == roots[0].Name }},
		{"consume", named("process changes.wix"), named("send changes.wix")},
		{"writer", named("platform-writer.apply"), named("process changes.wix")},
		{"mapping client", named("gallerysync.v1.MappingService/"), nil},
		{"platform call", isStatusCreate, nil},
	}
	for _, st := range steps {
		got := find(st.match)
		if len(got) == 0 {
			t.Errorf("%s: no span", st.name)
			continue
		}
		if st.parent != nil {
			p, ok := parentOf(got[0])
			if !ok || !st.parent(p) {
				t.Errorf("%s span %q has parent %q", st.name, got[0].Name, p.Name)
			}
		}
	}
	// Mapping calls show on both sides: client spans with server children.
	var serverSide int
	for _, sp := range find(named("gallerysync.v1.MappingService/")) {
		if p, ok := parentOf(sp); ok && p.Name == sp.Name {
			serverSide++
		}
	}
	if serverSide == 0 {
		t.Error("no mapping server span under a mapping client span")
	}
	writer := find(named("platform-writer.apply"))
	if len(writer) > 0 && attr(writer[0], "gallerysync.tenant") != s.Demo().InstanceID {
		t.Errorf("writer span tenant = %q, want %q", attr(writer[0], "gallerysync.tenant"), s.Demo().InstanceID)
	}
	for _, sp := range spans {
		for _, kv := range sp.Attributes {
			if strings.Contains(kv.Value.Emit(), s.Demo().MastodonToken) {
				t.Errorf("span %q attribute %s carries the Mastodon token", sp.Name, kv.Key)
			}
		}
	}
}

func isStatusCreate(sp tracetest.SpanStub) bool {
	return sp.SpanKind.String() == "client" && strings.HasSuffix(sp.Name, "POST") &&
		strings.HasSuffix(attr(sp, "url.full"), "/api/v1/statuses")
}

func attr(sp tracetest.SpanStub, key string) string {
	for _, kv := range sp.Attributes {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

func names(spans []tracetest.SpanStub) []string {
	var out []string
	for _, sp := range spans {
		out = append(out, sp.Name)
	}
	return out
}

// tree renders a trace as indented text, children in start order.
func tree(trace []tracetest.SpanStub) string {
	children := map[string][]tracetest.SpanStub{}
	ids := map[string]bool{}
	for _, sp := range trace {
		ids[sp.SpanContext.SpanID().String()] = true
	}
	var roots []tracetest.SpanStub
	for _, sp := range trace {
		p := sp.Parent.SpanID().String()
		if sp.Parent.IsValid() && ids[p] {
			children[p] = append(children[p], sp)
		} else {
			roots = append(roots, sp)
		}
	}
	var b strings.Builder
	var walk func(sp tracetest.SpanStub, depth int)
	walk = func(sp tracetest.SpanStub, depth int) {
		name := sp.Name
		if u := attr(sp, "url.full"); u != "" {
			name += " " + u
		}
		fmt.Fprintf(&b, "%s%s [%s] %s\n", strings.Repeat("  ", depth), name, sp.SpanKind, sp.EndTime.Sub(sp.StartTime).Round(time.Microsecond))
		kids := children[sp.SpanContext.SpanID().String()]
		sort.Slice(kids, func(i, j int) bool { return kids[i].StartTime.Before(kids[j].StartTime) })
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	return b.String()
}
