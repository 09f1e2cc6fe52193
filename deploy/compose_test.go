package deploy

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/types"
	"sigs.k8s.io/yaml"
)

// profileSet is one way the stack is started.
type profileSet struct {
	name     string
	profiles []string
}

// composeProfiles are the ways the stack is started.
func composeProfiles() []profileSet {
	return []profileSet{
		{"no profile", nil},
		{"sandbox profile", []string{"sandbox"}},
	}
}

// env is a service's final environment: compose file and env files merged.
func env(s types.ServiceConfig) map[string]string {
	out := map[string]string{}
	for k, v := range s.Environment {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

// imageOf names the deployable a service is built from, "" for others.
func imageOf(s types.ServiceConfig) string {
	if s.Build == nil {
		return ""
	}
	dir, file := filepath.Split(filepath.ToSlash(s.Build.Dockerfile))
	if file != "Dockerfile" {
		return ""
	}
	return filepath.Base(dir)
}

// hostPort splits an address (host:port or a URL) into host and port.
func hostPort(t *testing.T, addr string) (string, int) {
	t.Helper()
	if strings.Contains(addr, "://") {
		u, err := url.Parse(addr)
		if err != nil {
			t.Fatalf("address %q: %v", addr, err)
		}
		addr = u.Host
	}
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return h, port
}

func TestComposeServices(t *testing.T) {
	t.Parallel()
	for _, pc := range composeProfiles() {
		t.Run(pc.name, func(t *testing.T) {
			t.Parallel()
			p := loadCompose(t, "", pc.profiles...)
			sandbox := slices.Contains(pc.profiles, "sandbox")

			// Every deployable runs, the platform-writer once per adapter;
			// the sandbox only with its profile.
			want := map[string]string{} // compose service -> deployable
			for _, d := range deployables(t) {
				switch d {
				case "platform-writer":
					for _, a := range adapters(t) {
						want["platform-writer-"+a] = d
					}
				case "sandbox":
					if sandbox {
						want[d] = d
					}
				default:
					want[d] = d
				}
			}
			got := map[string]string{}
			for name, s := range p.Services {
				if img := imageOf(s); img != "" {
					got[name] = img
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("services built from services/*/Dockerfile = %v, want %v", got, want)
			}
			for _, a := range adapters(t) {
				s, ok := p.Services["platform-writer-"+a]
				if ok && env(s)["GALLERYSYNC_PLATFORM"] != a {
					t.Errorf("platform-writer-%s: GALLERYSYNC_PLATFORM=%q, want %q", a, env(s)["GALLERYSYNC_PLATFORM"], a)
				}
			}
			if s, ok := p.DisabledServices["sandbox"]; !sandbox && (!ok || !slices.Contains(s.Profiles, "sandbox")) {
				t.Errorf("the sandbox must be in the sandbox profile only")
			}

			for name, s := range p.Services {
				t.Run(name, func(t *testing.T) {
					checkComposeService(t, p, name, s)
				})
			}
		})
	}
}

// checkComposeService checks what every service of the stack must have.
func checkComposeService(t *testing.T, p *types.Project, name string, s types.ServiceConfig) {
	// A health check, or a reason in x-no-healthcheck.
	hc := s.HealthCheck
	hasHC := hc != nil && !hc.Disable && len(hc.Test) > 1
	if reason, _ := s.Extensions["x-no-healthcheck"].(string); !hasHC && strings.TrimSpace(reason) == "" {
		t.Errorf("no health check and no x-no-healthcheck reason")
	}
	if hasHC && hc.Test[0] != "CMD" {
		t.Errorf("health check %v: want the exec form (CMD ...)", hc.Test)
	}

	// Images are pinned: a tag, never latest.
	if _, tag, ok := strings.Cut(lastSegment(s.Image), ":"); !ok || tag == "" || tag == "latest" {
		t.Errorf("image %q is not pinned by tag", s.Image)
	}

	// A dependency this service waits to be healthy must have a health
	// check, or compose waits forever; one it waits to complete must not
	// restart.
	for dep, d := range s.DependsOn {
		ds, ok := p.Services[dep]
		if !ok {
			if d.Required {
				t.Errorf("depends on %s, which is not in the project", dep)
			}
			continue
		}
		switch d.Condition {
		case types.ServiceConditionHealthy:
			if ds.HealthCheck == nil || ds.HealthCheck.Disable {
				t.Errorf("waits for %s to be healthy, but it has no health check", dep)
			}
		case types.ServiceConditionCompletedSuccessfully:
			if ds.Restart != "no" {
				t.Errorf("waits for %s to complete, but its restart policy is %q", dep, ds.Restart)
			}
		}
	}

	img := imageOf(s)
	if img == "" {
		return
	}
	// Our images: hardened, probed on their own port, wired to the
	// services their addresses name.
	if !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") || s.User != nonroot ||
		!slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
		t.Errorf("want read_only, cap_drop ALL, user %s and no-new-privileges", nonroot)
	}
	if s.Image != "gallerysync/"+img+":dev" {
		t.Errorf("image %q, want gallerysync/%s:${GALLERYSYNC_VERSION:-dev}", s.Image, img)
	}
	if !hasHC || hc.Test[1] != "/usr/local/bin/probe" {
		t.Fatalf("health check %v: want the image's probe", hc)
	}
	_, port := hostPort(t, hc.Test[2])
	if want := exposedPort(t, img); port != want {
		t.Errorf("health check probes port %d, the image listens on %d", port, want)
	}
	e := env(s)
	waits := func(dep string, cond string) {
		t.Helper()
		if d, ok := s.DependsOn[dep]; !ok || d.Condition != cond {
			t.Errorf("does not wait for %s to be %s (depends_on %v)", dep, cond, s.DependsOn)
		}
	}
	if v, ok := e["GALLERYSYNC_NATS_URL"]; ok {
		checkAddr(t, p, "GALLERYSYNC_NATS_URL", v, "nats", 4222)
		waits("nats", types.ServiceConditionHealthy)
	}
	if v, ok := e["GALLERYSYNC_MAPPING_ADDR"]; ok {
		checkAddr(t, p, "GALLERYSYNC_MAPPING_ADDR", v, "mapping", exposedPort(t, "mapping"))
		waits("mapping", types.ServiceConditionHealthy)
	}
	if v, ok := e["GALLERYSYNC_REDIS_ADDR"]; ok {
		checkAddr(t, p, "GALLERYSYNC_REDIS_ADDR", v, "redis", 6379)
		waits("redis", types.ServiceConditionHealthy)
	}
	if v, ok := e["GALLERYSYNC_OTLP_ENDPOINT"]; !ok {
		t.Errorf("no GALLERYSYNC_OTLP_ENDPOINT: its spans would go nowhere")
	} else {
		checkAddr(t, p, "GALLERYSYNC_OTLP_ENDPOINT", v, "otel-collector", 4317)
	}
	if img == "ingress" || strings.HasPrefix(name, "platform-writer") || img == "wix-writer" || img == "console" {
		if _, ok := e["GALLERYSYNC_MAPPING_ADDR"]; !ok {
			t.Errorf("no GALLERYSYNC_MAPPING_ADDR: it would dial its own loopback")
		}
	}
}

// checkAddr checks that an address names a service of the project at port.
func checkAddr(t *testing.T, p *types.Project, key, addr, service string, port int) {
	t.Helper()
	h, got := hostPort(t, addr)
	if h != service || got != port {
		t.Errorf("%s=%s, want %s:%d", key, addr, service, port)
	}
	if _, ok := p.Services[service]; !ok {
		t.Errorf("%s names %s, which is not a service", key, service)
	}
}

// lastSegment drops a registry and path from an image reference, so a
// registry port is not taken for a tag.
func lastSegment(image string) string {
	return image[strings.LastIndex(image, "/")+1:]
}

func TestComposePersistenceAndObservability(t *testing.T) {
	t.Parallel()
	p := loadCompose(t, "")

	named := func(s types.ServiceConfig, target string) bool {
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeVolume && v.Target == target {
				if _, ok := p.Volumes[v.Source]; ok {
					return true
				}
			}
		}
		return false
	}

	nats := p.Services["nats"]
	args := append(append([]string{}, nats.Entrypoint...), nats.Command...)
	if !slices.Contains(args, "-js") {
		t.Errorf("nats %v: JetStream is off (no -js)", args)
	}
	if i := slices.Index(args, "-sd"); i < 0 || i+1 >= len(args) || !named(nats, args[i+1]) {
		t.Errorf("nats %v: its store dir (-sd) is not on a named volume", args)
	}
	if !strings.HasPrefix(nats.Image, "nats:") {
		t.Errorf("nats image %q, want the official nats image", nats.Image)
	}

	redis := p.Services["redis"]
	cmd := strings.Join(redis.Command, " ")
	if !strings.Contains(cmd, "--appendonly yes") {
		t.Errorf("redis %q: AOF is off (want --appendonly yes)", cmd)
	}
	if !named(redis, "/data") || !strings.Contains(cmd, "--dir /data") {
		t.Errorf("redis: its data dir is not /data on a named volume")
	}
	if hc := redis.HealthCheck; hc == nil || strings.Join(hc.Test, " ") != "CMD redis-cli ping" {
		t.Errorf("redis health check %v, want redis-cli ping", hc)
	}
	if strings.Contains(cmd, "--requirepass") && !strings.Contains(cmd, "--requirepass \"$REDISCLI_AUTH\"") {
		t.Errorf("redis %q: the password must come from the environment", cmd)
	}

	for name, image := range map[string]string{
		"otel-collector": "otel/opentelemetry-collector-contrib:",
		"jaeger":         "jaegertracing/",
		"prometheus":     "prom/prometheus:",
	} {
		if s, ok := p.Services[name]; !ok || !strings.HasPrefix(s.Image, image) {
			t.Errorf("service %s with image %s* is missing", name, image)
		}
	}
	if !publishes(p.Services["jaeger"], 16686) {
		t.Errorf("jaeger does not publish its UI (16686)")
	}
	if !mounts(p.Services["otel-collector"], "deploy/otel/collector.yaml") {
		t.Errorf("otel-collector does not mount deploy/otel/collector.yaml")
	}
	if !mounts(p.Services["prometheus"], "deploy/prometheus") {
		t.Errorf("prometheus does not mount deploy/prometheus")
	}
}

func publishes(s types.ServiceConfig, port uint32) bool {
	for _, pc := range s.Ports {
		if pc.Target == port && pc.Published != "" {
			return true
		}
	}
	return false
}

func mounts(s types.ServiceConfig, rel string) bool {
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeBind && strings.HasSuffix(filepath.ToSlash(v.Source), rel) {
			return true
		}
	}
	return false
}

// rawCompose is docker-compose.yml as written, before env files and merges.
type rawCompose struct {
	Services map[string]struct {
		Profiles    []string       `json:"profiles"`
		Environment map[string]any `json:"environment"`
		Command     any            `json:"command"`
	} `json:"services"`
}

func TestComposeHoldsNoSecrets(t *testing.T) {
	t.Parallel()
	var raw rawCompose
	if err := yaml.Unmarshal(readRepoFile(t, "docker-compose.yml"), &raw); err != nil {
		t.Fatal(err)
	}
	for name, s := range raw.Services {
		if slices.Contains(s.Profiles, "sandbox") {
			continue // demo values of the sandbox itself are allowed
		}
		for k, v := range s.Environment {
			if isSecretName(k) {
				t.Errorf("%s: %s=%v is set in docker-compose.yml; credentials belong in the env files", name, k, v)
			}
		}
	}
}

// envFiles reads every deploy/compose/<dir>/*.env.
func envFiles(t *testing.T, dir string) map[string]map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot(t), "deploy", "compose", dir, "*.env"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		vars, err := dotenv.ParseWithLookup(f, func(string) (string, bool) { return "", false })
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".env")] = vars
	}
	return out
}

func TestComposeEnvFiles(t *testing.T) {
	t.Parallel()
	demo, example := envFiles(t, "demo"), envFiles(t, "example")

	// A copy of example configures every key the demo does.
	for file, vars := range demo {
		ex, ok := example[file]
		if !ok {
			t.Errorf("example/%s.env is missing", file)
			continue
		}
		for k := range vars {
			_, inExample := ex[k]
			// The public key may be given as a file (the sandbox's) or inline.
			if !inExample && k != "GALLERYSYNC_WIX_PUBLIC_KEY_FILE" {
				t.Errorf("example/%s.env lacks %s", file, k)
			}
		}
	}
	// Demo credentials say that they are demo values; example ones are empty.
	for file, vars := range demo {
		for k, v := range vars {
			if !isSecretName(k) {
				continue
			}
			decoded, _ := base64.StdEncoding.DecodeString(v)
			if !strings.Contains(v, "demo") && !strings.Contains(string(decoded), "demo") {
				t.Errorf("demo/%s.env: %s is not recognizably a demo value", file, k)
			}
		}
	}
	for file, vars := range example {
		for k, v := range vars {
			if isSecretName(k) && v != "" {
				t.Errorf("example/%s.env: %s has a value; examples carry no credentials", file, k)
			}
		}
	}
	// The demo session key is one the console accepts; outside the demo,
	// credential checks never reach private addresses.
	if k, err := base64.StdEncoding.DecodeString(demo["console"]["GALLERYSYNC_SESSION_KEY"]); err != nil || len(k) < 32 {
		t.Errorf("demo/console.env: GALLERYSYNC_SESSION_KEY is not base64 of at least 32 bytes (%d bytes, %v)", len(k), err)
	}
	if v := example["console"]["GALLERYSYNC_ALLOW_PRIVATE_HOSTS"]; v != "" {
		if b, err := strconv.ParseBool(v); err != nil || b {
			t.Errorf("example/console.env: GALLERYSYNC_ALLOW_PRIVATE_HOSTS=%q, want false", v)
		}
	}
	// The Redis password is the same on both ends.
	if demo["redis"]["REDISCLI_AUTH"] != demo["mapping"]["GALLERYSYNC_REDIS_PASSWORD"] {
		t.Errorf("demo: redis.env REDISCLI_AUTH and mapping.env GALLERYSYNC_REDIS_PASSWORD differ")
	}
	// Every env file the stack reads exists for both folders.
	for _, dir := range []string{"demo", "example"} {
		for _, pc := range composeProfiles() {
			loadCompose(t, dir, pc.profiles...)
		}
	}
}

// TestComposeSandboxWiring checks that `docker compose --profile sandbox up`
// is a working demo: the services talk to the sandbox as they would to Wix
// and Mastodon.
func TestComposeSandboxWiring(t *testing.T) {
	t.Parallel()
	p := loadCompose(t, "", "sandbox")
	sb := env(p.Services["sandbox"])

	// The sandbox listens on a fixed address of the network, because it
	// writes that address into media URLs other containers fetch.
	host, port := hostPort(t, sb["GALLERYSYNC_ADDR"])
	if want := exposedPort(t, "sandbox"); port != want {
		t.Errorf("sandbox listens on %d, the image exposes %d", port, want)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		t.Fatalf("sandbox GALLERYSYNC_ADDR %q: want a fixed IP: %v", sb["GALLERYSYNC_ADDR"], err)
	}
	nc := p.Services["sandbox"].Networks["default"]
	if nc == nil || nc.Ipv4Address != host {
		t.Errorf("sandbox listens on %s but its network address is %+v", host, nc)
	}
	inSubnet := false
	for _, pool := range p.Networks["default"].Ipam.Config {
		if pfx, err := netip.ParsePrefix(pool.Subnet); err == nil && pfx.Contains(ip) {
			inSubnet = true
		}
	}
	if !inSubnet {
		t.Errorf("sandbox address %s is outside the default network's subnet", ip)
	}
	sandboxAddr := net.JoinHostPort(host, strconv.Itoa(port))
	hc := p.Services["sandbox"].HealthCheck
	if hc == nil || !strings.Contains(strings.Join(hc.Test, " "), sandboxAddr) {
		t.Errorf("sandbox health check %v does not probe %s, where it listens", hc, sandboxAddr)
	}

	// Webhooks reach ingress.
	if h, p2 := hostPort(t, sb["GALLERYSYNC_WEBHOOK_URL"]); h != "ingress" || p2 != exposedPort(t, "ingress") ||
		!strings.HasSuffix(sb["GALLERYSYNC_WEBHOOK_URL"], "/webhooks/wix") {
		t.Errorf("sandbox GALLERYSYNC_WEBHOOK_URL=%s, want http://ingress:%d/webhooks/wix", sb["GALLERYSYNC_WEBHOOK_URL"], exposedPort(t, "ingress"))
	}

	// Ingress verifies with the sandbox's key: sandbox-key copies it onto
	// the volume ingress reads, and ingress starts after that.
	ing := p.Services["ingress"]
	ie := env(ing)
	keyFile := ie["GALLERYSYNC_WIX_PUBLIC_KEY_FILE"]
	if keyFile == "" {
		t.Fatalf("ingress has no GALLERYSYNC_WIX_PUBLIC_KEY_FILE in the demo")
	}
	vol := volumeHolding(ing, keyFile)
	sk := p.Services["sandbox-key"]
	if vol == "" || volumeHolding(sk, keyFile) != vol || !strings.Contains(strings.Join(sk.Command, " "), "/wix-app-public-key.pem") {
		t.Errorf("sandbox-key does not write %s to the volume ingress reads it from", keyFile)
	}
	if d, ok := ing.DependsOn["sandbox-key"]; !ok || d.Condition != types.ServiceConditionCompletedSuccessfully {
		t.Errorf("ingress does not wait for sandbox-key to complete")
	}
	if ie["GALLERYSYNC_WIX_APP_ID"] != sb["GALLERYSYNC_WIX_APP_ID"] {
		t.Errorf("ingress WIX_APP_ID %q, the sandbox's app is %q", ie["GALLERYSYNC_WIX_APP_ID"], sb["GALLERYSYNC_WIX_APP_ID"])
	}

	// The wix-writer uses the sandbox's Wix with its app credentials.
	ww := env(p.Services["wix-writer"])
	if h, _ := hostPort(t, ww["GALLERYSYNC_WIX_BASE_URL"]); h != "sandbox" {
		t.Errorf("wix-writer GALLERYSYNC_WIX_BASE_URL=%s, want the sandbox", ww["GALLERYSYNC_WIX_BASE_URL"])
	}
	if ww["GALLERYSYNC_WIX_APP_ID"] != sb["GALLERYSYNC_WIX_APP_ID"] || ww["GALLERYSYNC_WIX_APP_SECRET"] != sb["GALLERYSYNC_WIX_APP_SECRET"] {
		t.Errorf("wix-writer's Wix app credentials differ from the sandbox's")
	}

	// The console reads the sandbox's Wix with its app (whose secret signs
	// the dashboard's instance), may check credentials against the
	// sandbox's private address, and is published where the dashboard link
	// of the README leads.
	con := p.Services["console"]
	ce := env(con)
	if h, p2 := hostPort(t, ce["GALLERYSYNC_WIX_BASE_URL"]); (h != "sandbox" && h != host) || p2 != port {
		t.Errorf("console GALLERYSYNC_WIX_BASE_URL=%s, want the sandbox (sandbox:%d or %s)", ce["GALLERYSYNC_WIX_BASE_URL"], port, sandboxAddr)
	}
	if ce["GALLERYSYNC_WIX_APP_ID"] != sb["GALLERYSYNC_WIX_APP_ID"] || ce["GALLERYSYNC_WIX_APP_SECRET"] != sb["GALLERYSYNC_WIX_APP_SECRET"] {
		t.Errorf("console's Wix app credentials differ from the sandbox's: it could not verify the dashboard's instance")
	}
	if v, err := strconv.ParseBool(ce["GALLERYSYNC_ALLOW_PRIVATE_HOSTS"]); err != nil || !v {
		t.Errorf("console GALLERYSYNC_ALLOW_PRIVATE_HOSTS=%q: the sandbox's Mastodon is on a private address", ce["GALLERYSYNC_ALLOW_PRIVATE_HOSTS"])
	}
	if want := exposedPort(t, "console"); !publishes(con, uint32(want)) {
		t.Errorf("console does not publish its port %d", want)
	}

	// Writers may fetch the sandbox's media.
	for name, s := range p.Services {
		if !strings.HasPrefix(name, "platform-writer-") && name != "wix-writer" {
			continue
		}
		hosts := strings.Split(env(s)["GALLERYSYNC_MEDIA_ALLOWED_HOSTS"], ",")
		if !slices.Contains(hosts, sandboxAddr) {
			t.Errorf("%s: GALLERYSYNC_MEDIA_ALLOWED_HOSTS %v lacks the sandbox (%s)", name, hosts, sandboxAddr)
		}
	}

	// The demo seed reaches mapping and the sandbox after both are healthy.
	seed := p.Services["demo-seed"]
	for _, dep := range []string{"mapping", "sandbox"} {
		if d, ok := seed.DependsOn[dep]; !ok || d.Condition != types.ServiceConditionHealthy {
			t.Errorf("demo-seed does not wait for %s to be healthy", dep)
		}
	}
	if !mounts(seed, "deploy/compose/demo-seed.sh") {
		t.Errorf("demo-seed does not mount deploy/compose/demo-seed.sh")
	}
}

// volumeHolding is the named volume of s that path lies on, "" if none.
func volumeHolding(s types.ServiceConfig, path string) string {
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeVolume && strings.HasPrefix(path, strings.TrimSuffix(v.Target, "/")+"/") {
			return v.Source
		}
	}
	return ""
}
