package deploy

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// externalMetrics are the metrics the dashboard and alerts may use that no
// code of ours defines, each with where it comes from.
func externalMetrics() map[string]string {
	return map[string]string{
		"up":                                        "Prometheus, per scrape target",
		"jetstream_consumer_num_pending":            "the NATS exporter (-jsz=all)",
		"jetstream_consumer_num_ack_pending":        "the NATS exporter (-jsz=all)",
		"jetstream_stream_total_messages":           "the NATS exporter (-jsz=all)",
		"kube_deployment_status_replicas_available": "kube-state-metrics",
	}
}

// instrument kinds by the OpenTelemetry constructor that makes them.
func instrumentKind(fn string) string {
	switch fn {
	case "Int64Counter", "Float64Counter", "Int64ObservableCounter", "Float64ObservableCounter":
		return "counter"
	case "Int64Histogram", "Float64Histogram":
		return "histogram"
	case "Int64UpDownCounter", "Float64UpDownCounter", "Int64Gauge", "Float64Gauge",
		"Int64ObservableGauge", "Float64ObservableGauge", "Int64ObservableUpDownCounter", "Float64ObservableUpDownCounter":
		return "gauge"
	}
	return ""
}

// unitSuffix is what the OpenTelemetry Prometheus exporter appends for a
// unit; annotations like "{event}" add nothing.
func unitSuffix(unit string) string {
	switch unit {
	case "s":
		return "_seconds"
	case "ms":
		return "_milliseconds"
	case "By":
		return "_bytes"
	}
	return ""
}

// codeMetrics finds every OpenTelemetry instrument the Go code of libs/ and
// services/ creates with a gallerysync.* name and returns the Prometheus
// series names it is served under.
func codeMetrics(t *testing.T) map[string]string {
	t.Helper()
	root := repoRoot(t)
	out := map[string]string{} // Prometheus name -> instrument name
	nameRe := regexp.MustCompile(`^gallerysync\.[a-z0-9_.]+$`)
	for _, top := range []string{"libs", "services"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), p, nil, 0)
			if err != nil {
				return err
			}
			for _, decl := range f.Decls {
				fn, ok := decl.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					continue
				}
				// Names written as literals anywhere in the function: the
				// instrument constructor may take them from a table.
				var literals []string
				ast.Inspect(fn.Body, func(n ast.Node) bool {
					if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if s, _ := strconv.Unquote(lit.Value); nameRe.MatchString(s) {
							literals = append(literals, s)
						}
					}
					return true
				})
				ast.Inspect(fn.Body, func(n ast.Node) bool {
					call, ok := n.(*ast.CallExpr)
					if !ok {
						return true
					}
					sel, ok := call.Fun.(*ast.SelectorExpr)
					if !ok || instrumentKind(sel.Sel.Name) == "" || len(call.Args) == 0 {
						return true
					}
					names := literals
					if lit, ok := call.Args[0].(*ast.BasicLit); ok {
						s, _ := strconv.Unquote(lit.Value)
						names = []string{s}
					}
					unit := ""
					for _, a := range call.Args[1:] {
						opt, ok := a.(*ast.CallExpr)
						if !ok {
							continue
						}
						if o, ok := opt.Fun.(*ast.SelectorExpr); ok && o.Sel.Name == "WithUnit" && len(opt.Args) == 1 {
							if lit, ok := opt.Args[0].(*ast.BasicLit); ok {
								unit, _ = strconv.Unquote(lit.Value)
							}
						}
					}
					for _, name := range names {
						if !nameRe.MatchString(name) {
							continue
						}
						base := strings.ReplaceAll(name, ".", "_") + unitSuffix(unit)
						switch instrumentKind(sel.Sel.Name) {
						case "counter":
							out[base+"_total"] = name
						case "histogram":
							for _, s := range []string{"_bucket", "_sum", "_count"} {
								out[base+s] = name
							}
						default:
							out[base] = name
						}
					}
					return true
				})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) == 0 {
		t.Fatal("no gallerysync.* instrument found in the code")
	}
	return out
}

// promqlMetrics returns the metric names a PromQL expression selects.
func promqlMetrics(expr string) []string {
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`"(?:[^"\\]|\\.)*"`), // strings
		regexp.MustCompile(`\{[^}]*\}`),         // label matchers
		regexp.MustCompile(`\[[^\]]*\]`),        // ranges
		regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`), // groupings
		regexp.MustCompile(`\b\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b`),                              // numbers
	} {
		expr = re.ReplaceAllString(expr, " ")
	}
	keywords := []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan"}
	var out []string
	ident := regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
	for _, loc := range ident.FindAllStringIndex(expr, -1) {
		name := expr[loc[0]:loc[1]]
		rest := strings.TrimLeft(expr[loc[1]:], " \t\n")
		if strings.HasPrefix(rest, "(") || slices.Contains(keywords, strings.ToLower(name)) {
			continue // a function or an operator
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

func TestPromQLMetrics(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		expr string
		want []string
	}{
		{`sum by (reason) (rate(a_total{reason=~"x|y"}[5m])) / sum(rate(b_total[$__rate_interval])) > 0.05`, []string{"a_total", "b_total"}},
		{`histogram_quantile(0.99, sum by (le) (rate(h_seconds_bucket[5m])))`, []string{"h_seconds_bucket"}},
		{`absent(up{job="ingress"} == 1) or sum(kube_x{deployment="ingress"}) < 1e-3`, []string{"up", "kube_x"}},
		{"max by (consumer_name) (\n  m{s=\"CHANGES\"}\n) > 1000", []string{"m"}},
	} {
		if got := promqlMetrics(tt.expr); !slices.Equal(got, tt.want) {
			t.Errorf("promqlMetrics(%q) = %v, want %v", tt.expr, got, tt.want)
		}
	}
}

// checkMetricsDefined fails for every metric of exprs that neither the code
// nor a named exporter defines.
func checkMetricsDefined(t *testing.T, where string, exprs []string) map[string]bool {
	t.Helper()
	defined, external := codeMetrics(t), externalMetrics()
	used := map[string]bool{}
	for _, e := range exprs {
		for _, m := range promqlMetrics(e) {
			used[m] = true
			_, inCode := defined[m]
			_, isExternal := external[m]
			if !inCode && !isExternal {
				t.Errorf("%s uses %s, which no code defines (nor a known exporter)", where, m)
			}
		}
	}
	return used
}

// dashboard is the part of a Grafana dashboard these checks read.
type dashboard struct {
	Title      string `json:"title"`
	UID        string `json:"uid"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query string `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID         int    `json:"id"`
		Type       string `json:"type"`
		Title      string `json:"title"`
		Datasource *struct {
			UID string `json:"uid"`
		} `json:"datasource"`
		Targets []struct {
			Expr  string `json:"expr"`
			RefID string `json:"refId"`
		} `json:"targets"`
	} `json:"panels"`
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	var d dashboard
	if err := json.Unmarshal(readRepoFile(t, "deploy/grafana/gallerysync-dashboard.json"), &d); err != nil {
		t.Fatalf("gallerysync-dashboard.json: %v", err)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("dashboard needs a title and a uid")
	}
	dsVar := ""
	for _, v := range d.Templating.List {
		if v.Type == "datasource" && v.Query == "prometheus" {
			dsVar = "${" + v.Name + "}"
		}
	}
	if dsVar == "" {
		t.Fatalf("no Prometheus data source variable: the dashboard would be tied to one Grafana")
	}
	ids := map[int]bool{}
	var exprs []string
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != dsVar {
			t.Errorf("panel %q does not use the data source variable %s", p.Title, dsVar)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			if strings.TrimSpace(tg.Expr) == "" || tg.RefID == "" {
				t.Errorf("panel %q: a query without expr or refId", p.Title)
			}
			exprs = append(exprs, tg.Expr)
		}
	}
	used := checkMetricsDefined(t, "the dashboard", exprs)
	// Every family of our metrics has panels, and so does consumer lag.
	for _, family := range []string{"gallerysync_ingress_", "gallerysync_bus_", "gallerysync_writer_", "jetstream_consumer_num_pending"} {
		if !slices.ContainsFunc(mapKeys(used), func(m string) bool { return strings.HasPrefix(m, family) }) {
			t.Errorf("the dashboard shows no %s* metric", family)
		}
	}
}

func mapKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// alertRules is the Prometheus rule file format.
type alertRules struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert       string            `json:"alert"`
			Expr        string            `json:"expr"`
			For         string            `json:"for,omitempty"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"rules"`
	} `json:"groups"`
}

// prometheusConfig is the part of prometheus.yml the compose stack uses.
type prometheusConfig struct {
	Global struct {
		ScrapeInterval     string `json:"scrape_interval"`
		EvaluationInterval string `json:"evaluation_interval"`
	} `json:"global"`
	RuleFiles     []string `json:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string `json:"job_name"`
		StaticConfigs []struct {
			Targets []string `json:"targets"`
		} `json:"static_configs,omitempty"`
		DNSSDConfigs []struct {
			Names []string `json:"names"`
			Type  string   `json:"type"`
			Port  int      `json:"port"`
		} `json:"dns_sd_configs,omitempty"`
	} `json:"scrape_configs"`
}

// scrapeTargets are the host:port each job of prometheus.yml scrapes.
func scrapeTargets(t *testing.T) map[string][]string {
	t.Helper()
	var pc prometheusConfig
	if err := yaml.UnmarshalStrict(readRepoFile(t, "deploy/prometheus/prometheus.yml"), &pc); err != nil {
		t.Fatalf("prometheus.yml: %v", err)
	}
	for _, rf := range pc.RuleFiles {
		if _, err := os.Stat(filepath.Join(repoRoot(t), "deploy", "prometheus", strings.TrimPrefix(rf, "/etc/prometheus/"))); err != nil || !strings.HasPrefix(rf, "/etc/prometheus/") {
			t.Errorf("rule file %s is not in deploy/prometheus (mounted at /etc/prometheus)", rf)
		}
	}
	out := map[string][]string{}
	for _, sc := range pc.ScrapeConfigs {
		for _, s := range sc.StaticConfigs {
			out[sc.JobName] = append(out[sc.JobName], s.Targets...)
		}
		for _, s := range sc.DNSSDConfigs {
			for _, n := range s.Names {
				out[sc.JobName] = append(out[sc.JobName], net.JoinHostPort(n, strconv.Itoa(s.Port)))
			}
		}
	}
	return out
}

func TestAlerts(t *testing.T) {
	t.Parallel()
	var rules alertRules
	if err := yaml.UnmarshalStrict(readRepoFile(t, "deploy/prometheus/alerts.yml"), &rules); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	jobs := scrapeTargets(t)
	var exprs []string
	byName := map[string]string{}
	jobRe := regexp.MustCompile(`job="([^"]+)"`)
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || strings.TrimSpace(r.Expr) == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %q needs a name, an expr and a summary", r.Alert)
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("rule %s: severity %q, want warning or critical", r.Alert, s)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("rule %s: for %q: %v", r.Alert, r.For, err)
				}
			}
			for _, m := range jobRe.FindAllStringSubmatch(r.Expr, -1) {
				if _, ok := jobs[m[1]]; !ok {
					t.Errorf("rule %s selects job %q, which prometheus.yml does not scrape", r.Alert, m[1])
				}
			}
			exprs = append(exprs, r.Expr)
			byName[r.Alert] = r.Expr
		}
	}
	checkMetricsDefined(t, "alerts.yml", exprs)

	// The alerts the deployment promises, each on the metric that shows it.
	for alert, metric := range map[string]string{
		"GallerysyncConsumerLagHigh":  "jetstream_consumer_num_pending",
		"GallerysyncDeadLetterGrowth": "gallerysync_bus_dead_lettered_total",
		"GallerysyncWebhookErrorRate": "gallerysync_ingress_rejected_total",
		"GallerysyncIngressNotReady":  "up",
	} {
		if expr, ok := byName[alert]; !ok || !slices.Contains(promqlMetrics(expr), metric) {
			t.Errorf("alert %s on %s is missing", alert, metric)
		}
	}

	// Label values the alerts filter on are ones the code uses.
	ingress := readTree(t, "services/ingress")
	reasonRe := regexp.MustCompile(`reason=~?"([^"]+)"`)
	for _, e := range exprs {
		for _, m := range reasonRe.FindAllStringSubmatch(e, -1) {
			for _, reason := range strings.Split(m[1], "|") {
				if !strings.Contains(ingress, strconv.Quote(reason)) {
					t.Errorf("alerts filter on reason %q, which ingress never reports", reason)
				}
			}
		}
	}
	change := string(readRepoFile(t, "libs/change/change.go"))
	streamRe := regexp.MustCompile(`stream_name="([^"]+)"`)
	for _, e := range append(exprs, dashboardExprs(t)...) {
		for _, m := range streamRe.FindAllStringSubmatch(e, -1) {
			if !strings.Contains(change, strconv.Quote(m[1])) {
				t.Errorf("stream %q is not a stream of libs/change", m[1])
			}
		}
	}
}

func dashboardExprs(t *testing.T) []string {
	t.Helper()
	var d dashboard
	if err := json.Unmarshal(readRepoFile(t, "deploy/grafana/gallerysync-dashboard.json"), &d); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out = append(out, tg.Expr)
		}
	}
	return out
}

// readTree concatenates the non-test Go files under a repository folder.
func readTree(t *testing.T, rel string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(filepath.Join(repoRoot(t), filepath.FromSlash(rel)), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		data, err := os.ReadFile(p)
		b.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestPrometheusScrapesEveryMetricsEndpoint(t *testing.T) {
	t.Parallel()
	jobs := scrapeTargets(t)
	p := loadCompose(t, "", "sandbox")
	for name, s := range p.Services {
		img := imageOf(s)
		if img == "" {
			continue
		}
		// A service with an HTTP server serves /metrics on it.
		if _, ok := dockerfileEnv(t, img)["GALLERYSYNC_HTTP_ADDR"]; !ok {
			continue
		}
		want := net.JoinHostPort(name, strconv.Itoa(exposedPort(t, img)))
		if !slices.Contains(jobs[img], want) {
			t.Errorf("job %s does not scrape %s (has %v)", img, want, jobs[img])
		}
	}
	for job, targets := range jobs {
		for _, tg := range targets {
			host, _, err := net.SplitHostPort(tg)
			if err != nil {
				t.Errorf("job %s: target %q: %v", job, tg, err)
				continue
			}
			if _, ok := p.Services[host]; !ok {
				t.Errorf("job %s scrapes %s, which is not a compose service", job, host)
			}
		}
	}
	// The exporters: consumer lag, and the collector's span metrics.
	if !slices.Contains(jobs["nats"], "nats-exporter:7777") {
		t.Errorf("no job scrapes the NATS exporter (consumer lag)")
	}
	col := collectorConfig(t)
	_, port, _ := net.SplitHostPort(col.Exporters["prometheus"]["endpoint"].(string))
	if !slices.Contains(jobs["otel-collector"], "otel-collector:"+port) {
		t.Errorf("no job scrapes the collector's prometheus exporter (port %s)", port)
	}
}

// dockerfileEnv is the ENV of an image's runtime stage.
func dockerfileEnv(t *testing.T, name string) map[string]string {
	t.Helper()
	stages, err := parseDockerfile(string(readRepoFile(t, "services/"+name+"/Dockerfile")))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, in := range stages[len(stages)-1].ins {
		if in.cmd == "ENV" {
			for k, v := range envPairs(in.args) {
				out[k] = v
			}
		}
	}
	return out
}

// otelConfig is the collector configuration's layout.
type otelConfig struct {
	Receivers  map[string]map[string]any `json:"receivers"`
	Processors map[string]map[string]any `json:"processors"`
	Connectors map[string]map[string]any `json:"connectors"`
	Exporters  map[string]map[string]any `json:"exporters"`
	Extensions map[string]map[string]any `json:"extensions"`
	Service    struct {
		Extensions []string `json:"extensions"`
		Pipelines  map[string]struct {
			Receivers  []string `json:"receivers"`
			Processors []string `json:"processors"`
			Exporters  []string `json:"exporters"`
		} `json:"pipelines"`
	} `json:"service"`
}

func collectorConfig(t *testing.T) otelConfig {
	t.Helper()
	var c otelConfig
	if err := yaml.UnmarshalStrict(readRepoFile(t, "deploy/otel/collector.yaml"), &c); err != nil {
		t.Fatalf("collector.yaml: %v", err)
	}
	return c
}

func TestCollectorConfig(t *testing.T) {
	t.Parallel()
	c := collectorConfig(t)
	has := func(m map[string]map[string]any, name string) bool { _, ok := m[name]; return ok }
	for name, p := range c.Service.Pipelines {
		for _, r := range p.Receivers {
			if !has(c.Receivers, r) && !has(c.Connectors, r) {
				t.Errorf("pipeline %s receives from undefined %s", name, r)
			}
		}
		for _, pr := range p.Processors {
			if !has(c.Processors, pr) {
				t.Errorf("pipeline %s uses undefined processor %s", name, pr)
			}
		}
		for _, e := range p.Exporters {
			if !has(c.Exporters, e) && !has(c.Connectors, e) {
				t.Errorf("pipeline %s exports to undefined %s", name, e)
			}
		}
	}
	traces, ok := c.Service.Pipelines["traces"]
	if !ok || !slices.Contains(traces.Receivers, "otlp") {
		t.Fatalf("no traces pipeline from the otlp receiver")
	}
	// Services send to otel-collector:4317; the collector sends to Jaeger.
	grpc, _ := c.Receivers["otlp"]["protocols"].(map[string]any)["grpc"].(map[string]any)
	if ep, _ := grpc["endpoint"].(string); !strings.HasSuffix(ep, ":4317") || strings.HasPrefix(ep, "127.") || strings.HasPrefix(ep, "localhost") {
		t.Errorf("otlp grpc receiver listens on %q, want every interface on 4317", ep)
	}
	p := loadCompose(t, "")
	jaegerExport := false
	for _, e := range traces.Exporters {
		ep, _ := c.Exporters[e]["endpoint"].(string)
		if host, _, err := net.SplitHostPort(ep); err == nil && host == "jaeger" {
			jaegerExport = true
		}
	}
	if _, ok := p.Services["jaeger"]; !ok || !jaegerExport {
		t.Errorf("traces are not exported to the jaeger service")
	}
	metrics, ok := c.Service.Pipelines["metrics"]
	if !ok || !slices.Contains(metrics.Exporters, "prometheus") {
		t.Errorf("no metrics pipeline to the prometheus exporter")
	}
}
