package deploy

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// forEachOverlay runs check on every rendered overlay as a subtest.
func forEachOverlay(t *testing.T, check func(t *testing.T, r *rendered)) {
	t.Helper()
	for _, o := range overlays(t) {
		t.Run(o, func(t *testing.T) {
			t.Parallel()
			check(t, render(t, o))
		})
	}
}

func TestContainersAreBoundedProbedAndLockedDown(t *testing.T) {
	t.Parallel()
	forEachOverlay(t, func(t *testing.T, r *rendered) {
		for _, w := range r.workloads() {
			pod := w.template.Spec
			if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
				t.Errorf("%s %s: automountServiceAccountToken must be false (nothing here calls the API)", w.kind, w.name)
			}
			all := append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...)
			for _, c := range all {
				where := fmt.Sprintf("%s %s container %s", w.kind, w.name, c.Name)
				checkResources(t, where, c.Resources)
				checkSecurity(t, where, pod.SecurityContext, c.SecurityContext)
				checkImage(t, where, c.Image)
				// A Job's pod runs to completion: nothing to be ready for.
				if w.kind != "Job" && (c.ReadinessProbe == nil || c.LivenessProbe == nil) {
					t.Errorf("%s: needs a readiness and a liveness probe", where)
				}
			}
		}
	})
}

func checkResources(t *testing.T, where string, res corev1.ResourceRequirements) {
	t.Helper()
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := res.Requests[name]
		lim, hasLim := res.Limits[name]
		if !hasReq || !hasLim {
			t.Errorf("%s: %s request and limit must both be set", where, name)
			continue
		}
		if req.Cmp(lim) > 0 {
			t.Errorf("%s: %s request %s exceeds its limit %s", where, name, req.String(), lim.String())
		}
	}
}

func checkSecurity(t *testing.T, where string, pod *corev1.PodSecurityContext, c *corev1.SecurityContext) {
	t.Helper()
	if c == nil {
		t.Errorf("%s: no securityContext", where)
		return
	}
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	// The container's setting wins over the pod's.
	nonRoot := c.RunAsNonRoot
	if nonRoot == nil {
		nonRoot = pod.RunAsNonRoot
	}
	seccomp := c.SeccompProfile
	if seccomp == nil {
		seccomp = pod.SeccompProfile
	}
	user := c.RunAsUser
	if user == nil {
		user = pod.RunAsUser
	}
	switch {
	case nonRoot == nil || !*nonRoot:
		t.Errorf("%s: runAsNonRoot must be true", where)
	case user == nil || *user == 0:
		t.Errorf("%s: runAsUser must name a non-root user (images may name theirs by name or run as root)", where)
	}
	if c.AllowPrivilegeEscalation == nil || *c.AllowPrivilegeEscalation {
		t.Errorf("%s: allowPrivilegeEscalation must be false", where)
	}
	if c.ReadOnlyRootFilesystem == nil || !*c.ReadOnlyRootFilesystem {
		t.Errorf("%s: readOnlyRootFilesystem must be true", where)
	}
	if c.Capabilities == nil || !slices.Equal(c.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(c.Capabilities.Add) > 0 {
		t.Errorf("%s: capabilities must drop ALL and add none", where)
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: seccompProfile must be RuntimeDefault", where)
	}
	if c.Privileged != nil && *c.Privileged {
		t.Errorf("%s: privileged", where)
	}
}

// checkImage: pinned by a tag (or digest), never latest.
func checkImage(t *testing.T, where, image string) {
	t.Helper()
	if strings.Contains(image, "@sha256:") {
		return
	}
	name := imageName(image)
	tag := strings.TrimPrefix(image, name)
	if tag == "" || tag == ":" || tag == ":latest" {
		t.Errorf("%s: image %q is not pinned by tag", where, image)
	}
}

func TestServiceProbes(t *testing.T) {
	t.Parallel()
	forEachOverlay(t, func(t *testing.T, r *rendered) {
		for _, w := range r.workloads() {
			for _, c := range w.template.Spec.Containers {
				svc := serviceOf(c.Image)
				if svc == "" {
					continue
				}
				where := fmt.Sprintf("%s %s", w.kind, w.name)
				port := exposedPort(t, svc)
				if len(c.Ports) != 1 || c.Ports[0].ContainerPort != int32(port) {
					t.Errorf("%s: container ports %v, the image listens on %d", where, c.Ports, port)
				}
				if svc == "mapping" {
					// Ready while the store answers: the gRPC health service.
					if p := c.ReadinessProbe; p == nil || p.GRPC == nil || p.GRPC.Port != int32(port) {
						t.Errorf("%s: readiness must be a gRPC probe of port %d", where, port)
					}
					continue
				}
				checkHTTPProbe(t, where+" readiness", c, c.ReadinessProbe, "/readyz", port)
				checkHTTPProbe(t, where+" liveness", c, c.LivenessProbe, "/healthz", port)
			}
		}
	})
}

func checkHTTPProbe(t *testing.T, where string, c corev1.Container, p *corev1.Probe, path string, port int) {
	t.Helper()
	if p == nil || p.HTTPGet == nil {
		t.Errorf("%s: want httpGet %s", where, path)
		return
	}
	got := p.HTTPGet.Port.IntValue()
	if p.HTTPGet.Port.StrVal != "" {
		for _, cp := range c.Ports {
			if cp.Name == p.HTTPGet.Port.StrVal {
				got = int(cp.ContainerPort)
			}
		}
	}
	if p.HTTPGet.Path != path || got != port {
		t.Errorf("%s: probes %s on %d, want %s on %d", where, p.HTTPGet.Path, got, path, port)
	}
}

func TestEveryWorkloadHasADisruptionBudget(t *testing.T) {
	t.Parallel()
	forEachOverlay(t, func(t *testing.T, r *rendered) {
		for _, w := range r.workloads() {
			if w.kind == "Job" {
				continue
			}
			pods := labels.Set(w.template.Labels)
			var covering []string
			for _, pdb := range r.pdbs {
				sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
				if err != nil {
					t.Fatalf("PDB %s: %v", pdb.Name, err)
				}
				if pdb.Namespace == w.namespace && sel.Matches(pods) {
					covering = append(covering, pdb.Name)
				}
				// A budget never spans two workloads.
				for _, other := range r.workloads() {
					if other.name != w.name && other.kind != "Job" && sel.Matches(labels.Set(other.template.Labels)) && sel.Matches(pods) {
						t.Errorf("PDB %s selects pods of both %s and %s", pdb.Name, w.name, other.name)
					}
				}
			}
			if len(covering) != 1 {
				t.Errorf("%s %s is covered by PDBs %v, want exactly one", w.kind, w.name, covering)
			}
		}
		for _, pdb := range r.pdbs {
			if pdb.Spec.MaxUnavailable == nil && pdb.Spec.MinAvailable == nil {
				t.Errorf("PDB %s sets neither maxUnavailable nor minAvailable", pdb.Name)
			}
		}
	})
}

// jetStreamTrigger is a ScaledObject's nats-jetstream trigger metadata.
func jetStreamTrigger(t *testing.T, so scaledObject) map[string]string {
	t.Helper()
	if len(so.Spec.Triggers) != 1 || so.Spec.Triggers[0].Type != "nats-jetstream" {
		t.Fatalf("ScaledObject %s: want one nats-jetstream trigger, have %+v", so.Name, so.Spec.Triggers)
	}
	return so.Spec.Triggers[0].Metadata
}

func TestWritersScaleOnTheirOwnConsumer(t *testing.T) {
	t.Parallel()
	forEachOverlay(t, func(t *testing.T, r *rendered) {
		// One platform-writer Deployment per adapter, and nothing else.
		var writers []string
		for _, d := range r.deployments {
			if d.Spec.Template.Labels["app.kubernetes.io/name"] == "platform-writer" {
				writers = append(writers, d.Name)
			}
		}
		var want []string
		for _, a := range adapters(t) {
			want = append(want, "platform-writer-"+a)
		}
		slices.Sort(writers)
		if !slices.Equal(writers, want) {
			t.Errorf("platform-writer Deployments %v, want one per adapter: %v", writers, want)
		}

		// Each scaled writer: its own ScaledObject, on its own consumer.
		consumers := map[string]string{} // deployment -> durable consumer
		for _, a := range adapters(t) {
			d := r.deployment(t, "platform-writer-"+a)
			e := r.containerEnv(t, d.Spec.Template.Spec.Containers[0])
			if e["GALLERYSYNC_PLATFORM"].value != a {
				t.Errorf("%s: GALLERYSYNC_PLATFORM=%q, want %q", d.Name, e["GALLERYSYNC_PLATFORM"].value, a)
			}
			consumers[d.Name] = "platform-writer-" + a // the writer's default durable
			if v := e["GALLERYSYNC_DURABLE"].value; v != "" {
				consumers[d.Name] = v
			}
		}
		d := r.deployment(t, "wix-writer")
		consumers["wix-writer"] = "wix-writer"
		if v := r.containerEnv(t, d.Spec.Template.Spec.Containers[0])["GALLERYSYNC_DURABLE"].value; v != "" {
			consumers["wix-writer"] = v
		}
		seen := map[string]bool{}
		for _, so := range r.scaledObjects {
			target := so.Spec.ScaleTargetRef.Name
			if so.Spec.ScaleTargetRef.Kind != "" && so.Spec.ScaleTargetRef.Kind != "Deployment" {
				t.Errorf("ScaledObject %s scales a %s", so.Name, so.Spec.ScaleTargetRef.Kind)
			}
			want, ok := consumers[target]
			if !ok {
				t.Errorf("ScaledObject %s scales %q, which is not a writer", so.Name, target)
				continue
			}
			if seen[target] {
				t.Errorf("%s has two ScaledObjects", target)
			}
			seen[target] = true
			m := jetStreamTrigger(t, so)
			if m["stream"] != "CHANGES" || m["consumer"] != want || m["account"] != "$G" {
				t.Errorf("ScaledObject %s watches %s/%s, want CHANGES/%s", so.Name, m["stream"], m["consumer"], want)
			}
			if n, err := strconv.Atoi(m["lagThreshold"]); err != nil || n < 1 {
				t.Errorf("ScaledObject %s: lagThreshold %q", so.Name, m["lagThreshold"])
			}
			checkMonitoringEndpoint(t, r, so.Namespace, m["natsServerMonitoringEndpoint"])
			min, max := so.Spec.MinReplicaCount, so.Spec.MaxReplicaCount
			if min == nil || max == nil || *min < 1 || *max < *min {
				t.Errorf("ScaledObject %s: replicas %v..%v", so.Name, min, max)
			}
			if r.deployment(t, target).Spec.Replicas != nil {
				t.Errorf("Deployment %s sets replicas, which would fight KEDA on every apply", target)
			}
		}
		for target := range consumers {
			if !seen[target] {
				t.Errorf("%s has no ScaledObject", target)
			}
		}
	})
}

// checkMonitoringEndpoint: KEDA runs in its own namespace and finds a
// consumer's leader as <server name>.<endpoint host>, so the endpoint is the
// fully qualified headless Service of the NATS StatefulSet, on its
// monitoring port.
func checkMonitoringEndpoint(t *testing.T, r *rendered, ns, endpoint string) {
	t.Helper()
	host, port, err := net.SplitHostPort(endpoint)
	if err != nil {
		t.Errorf("monitoring endpoint %q: %v", endpoint, err)
		return
	}
	nats := r.statefulSet(t, "nats")
	want := nats.Spec.ServiceName + "." + ns + ".svc.cluster.local"
	if host != want || port != "8222" {
		t.Errorf("monitoring endpoint %s, want %s:8222", endpoint, want)
	}
	if svc, ok := r.service(nats.Spec.ServiceName); !ok || svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("%s is not a headless Service", nats.Spec.ServiceName)
	}
}

func TestIngressScalesOnCPU(t *testing.T) {
	t.Parallel()
	forEachOverlay(t, func(t *testing.T, r *rendered) {
		var found int
		for _, h := range r.hpas {
			if h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != "ingress" {
				t.Errorf("HPA %s targets %s %s; only ingress scales on CPU", h.Name, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name)
				continue
			}
			found++
			cpu := false
			for _, m := range h.Spec.Metrics {
				if m.Resource != nil && m.Resource.Name == corev1.ResourceCPU && m.Resource.Target.AverageUtilization != nil {
					cpu = true
				}
			}
			if !cpu {
				t.Errorf("HPA %s has no CPU utilization target", h.Name)
			}
			if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 1 || h.Spec.MaxReplicas < *h.Spec.MinReplicas {
				t.Errorf("HPA %s: replicas %v..%d", h.Name, h.Spec.MinReplicas, h.Spec.MaxReplicas)
			}
		}
		if found != 1 {
			t.Errorf("%d HPAs for ingress, want 1", found)
		}
		if r.deployment(t, "ingress").Spec.Replicas != nil {
			t.Errorf("Deployment ingress sets replicas, which would fight the HPA on every apply")
		}
	})
}

// confValue is the value of `key value` or `key: value` in a server
// config file (redis.conf, nats.conf).
func confValue(conf, key string) (string, bool) {
	re := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(key) + `\s*[:=]?\s+(.+?)\s*$`)
	m := re.FindStringSubmatch(conf)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// mountedConfig is the text of a file a container reads from a mounted
// ConfigMap (the first file of the volume mounted at dir).
func mountedConfig(t *testing.T, r *rendered, pod corev1.PodSpec, c corev1.Container, file string) string {
	t.Helper()
	for _, vm := range c.VolumeMounts {
		if !strings.HasPrefix(file, strings.TrimSuffix(vm.MountPath, "/")+"/") {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name == vm.Name && v.ConfigMap != nil {
				cm := r.configMap(t, v.ConfigMap.Name)
				key := strings.TrimPrefix(file, strings.TrimSuffix(vm.MountPath, "/")+"/")
				if text, ok := cm.Data[key]; ok {
					return text
				}
			}
		}
	}
	t.Fatalf("container %s does not mount %s from a ConfigMap", c.Name, file)
	return ""
}

// claimAt is the volumeClaimTemplate mounted at dir, "" if none.
func claimAt(c corev1.Container, claims []corev1.PersistentVolumeClaim, dir string) string {
	for _, vm := range c.VolumeMounts {
		if strings.TrimSuffix(vm.MountPath, "/") != strings.TrimSuffix(dir, "/") {
			continue
		}
		for _, pvc := range claims {
			if pvc.Name == vm.Name {
				return pvc.Name
			}
		}
	}
	return ""
}

func TestNATSIsAJetStreamClusterOfThree(t *testing.T) {
	t.Parallel()
	forEachOverlay(t, func(t *testing.T, r *rendered) {
		sts := r.statefulSet(t, "nats")
		if sts.Spec.Replicas == nil || *sts.Spec.Replicas != 3 {
			t.Errorf("nats replicas %v, want 3", sts.Spec.Replicas)
		}
		if svc, ok := r.service(sts.Spec.ServiceName); !ok || svc.Spec.ClusterIP != corev1.ClusterIPNone || !svc.Spec.PublishNotReadyAddresses {
			t.Errorf("nats serviceName %q: want a headless Service publishing not-ready addresses", sts.Spec.ServiceName)
		}
		c := sts.Spec.Template.Spec.Containers[0]
		if !strings.HasPrefix(c.Image, "nats:") {
			t.Fatalf("first container image %s, want the official nats image", c.Image)
		}
		i := slices.Index(c.Command, "--config")
		if i < 0 || i+1 >= len(c.Command) {
			t.Fatalf("nats command %v: no --config", c.Command)
		}
		conf := mountedConfig(t, r, sts.Spec.Template.Spec, c, c.Command[i+1])
		if !strings.Contains(conf, "jetstream {") {
			t.Errorf("nats.conf does not enable JetStream")
		}
		dir, _ := confValue(conf, "store_dir")
		if claimAt(c, sts.Spec.VolumeClaimTemplates, dir) == "" {
			t.Errorf("JetStream store_dir %q is not on a volumeClaimTemplate", dir)
		}
		for n := range 3 {
			route := fmt.Sprintf("nats://nats-%d.%s:6222", n, sts.Spec.ServiceName)
			if !strings.Contains(conf, route) {
				t.Errorf("nats.conf has no route %s", route)
			}
		}
		// KEDA finds the leader by server name: each server is its pod.
		if v, _ := confValue(conf, "server_name"); v != "$POD_NAME" {
			t.Errorf("server_name %q, want $POD_NAME", v)
		}
		podName := false
		for _, e := range c.Env {
			if e.Name == "POD_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name" {
				podName = true
			}
		}
		if !podName {
			t.Errorf("nats has no POD_NAME from metadata.name")
		}

		// Every bus client agrees on the stream replicas, and the cluster
		// can hold them.
		replicas := map[string]bool{}
		for _, w := range r.workloads() {
			for _, c := range w.template.Spec.Containers {
				if v, ok := r.containerEnv(t, c)["GALLERYSYNC_NATS_REPLICAS"]; ok {
					replicas[v.value] = true
				}
			}
		}
		if len(replicas) != 1 {
			t.Fatalf("services disagree on GALLERYSYNC_NATS_REPLICAS: %v", replicas)
		}
		for v := range replicas {
			n, err := strconv.Atoi(v)
			want := 1
			if r.overlay == "prod" {
				want = 3
			}
			if err != nil || n != want || n > int(*sts.Spec.Replicas) {
				t.Errorf("GALLERYSYNC_NATS_REPLICAS=%s, want %d (%s)", v, want, r.overlay)
			}
		}
	})
}

func TestRedisKeepsEveryWrite(t *testing.T) {
	t.Parallel()
	forEachOverlay(t, func(t *testing.T, r *rendered) {
		sts := r.statefulSet(t, "redis")
		c := sts.Spec.Template.Spec.Containers[0]
		args := append(append([]string{}, c.Command...), c.Args...)
		var confFile string
		for _, a := range args {
			if strings.HasSuffix(a, ".conf") {
				confFile = a
			}
		}
		conf := mountedConfig(t, r, sts.Spec.Template.Spec, c, confFile)
		if v, _ := confValue(conf, "appendonly"); v != "yes" {
			t.Errorf("redis appendonly %q, want yes", v)
		}
		dir, _ := confValue(conf, "dir")
		if claimAt(c, sts.Spec.VolumeClaimTemplates, dir) == "" {
			t.Errorf("redis dir %q is not on a volumeClaimTemplate", dir)
		}
		if v, _ := confValue(conf, "maxmemory-policy"); v != "noeviction" {
			t.Errorf("redis maxmemory-policy %q: the mapping state must never be evicted", v)
		}
		if !slices.Contains(args, "--requirepass") {
			t.Errorf("redis runs without a password")
		}

		// The mapping service's addresses are the Redis pods.
		m := r.deployment(t, "mapping")
		addrs := strings.Split(r.containerEnv(t, m.Spec.Template.Spec.Containers[0])["GALLERYSYNC_REDIS_ADDR"].value, ",")
		cluster, _ := confValue(conf, "cluster-enabled")
		if r.overlay == "prod" {
			if cluster != "yes" || *sts.Spec.Replicas < 6 {
				t.Errorf("prod redis: cluster-enabled %q with %d replicas, want a cluster of at least 6", cluster, *sts.Spec.Replicas)
			}
			if len(addrs) < 2 {
				t.Errorf("prod mapping GALLERYSYNC_REDIS_ADDR %v: one address means a single Redis to the mapping service", addrs)
			}
			for _, a := range addrs {
				h, _, _ := net.SplitHostPort(a)
				pod, svc, _ := strings.Cut(h, ".")
				n, err := strconv.Atoi(strings.TrimPrefix(pod, "redis-"))
				if svc != sts.Spec.ServiceName || err != nil || n >= int(*sts.Spec.Replicas) {
					t.Errorf("prod mapping Redis address %s is not a pod of the redis StatefulSet", a)
				}
			}
			return
		}
		if cluster == "yes" || len(addrs) != 1 {
			t.Errorf("%s: a single Redis is expected (cluster-enabled %q, addresses %v)", r.overlay, cluster, addrs)
		}
	})
}

func TestReplicasPerEnvironment(t *testing.T) {
	t.Parallel()
	forEachOverlay(t, func(t *testing.T, r *rendered) {
		// Most replicas a Deployment can run, and fewest it keeps.
		bounds := map[string][2]int32{}
		for _, d := range r.deployments {
			if d.Spec.Replicas != nil {
				bounds[d.Name] = [2]int32{*d.Spec.Replicas, *d.Spec.Replicas}
			}
		}
		for _, h := range r.hpas {
			bounds[h.Spec.ScaleTargetRef.Name] = [2]int32{*h.Spec.MinReplicas, h.Spec.MaxReplicas}
		}
		for _, so := range r.scaledObjects {
			bounds[so.Spec.ScaleTargetRef.Name] = [2]int32{*so.Spec.MinReplicaCount, *so.Spec.MaxReplicaCount}
		}
		for _, d := range r.deployments {
			b, ok := bounds[d.Name]
			if !ok {
				t.Errorf("Deployment %s: replicas are set by nothing", d.Name)
				continue
			}
			switch r.overlay {
			case "dev":
				if b != [2]int32{1, 1} {
					t.Errorf("dev: %s runs %d..%d replicas, want exactly 1", d.Name, b[0], b[1])
				}
			case "prod":
				if b[0] < 2 {
					t.Errorf("prod: %s keeps as few as %d replicas, want at least 2", d.Name, b[0])
				}
			}
		}
	})
}

// TestConsoleStaysOutOfTheCluster: site owners enter the addresses the
// console checks new credentials at, so in a cluster those checks must
// never reach private addresses, and Wix is reached over https.
func TestConsoleStaysOutOfTheCluster(t *testing.T) {
	t.Parallel()
	forEachOverlay(t, func(t *testing.T, r *rendered) {
		d := r.deployment(t, "console")
		e := r.containerEnv(t, d.Spec.Template.Spec.Containers[0])
		if v, ok := e["GALLERYSYNC_ALLOW_PRIVATE_HOSTS"]; ok {
			if b, err := strconv.ParseBool(v.value); err != nil || b {
				t.Errorf("console GALLERYSYNC_ALLOW_PRIVATE_HOSTS=%q, want false", v.value)
			}
		}
		if v, ok := e["GALLERYSYNC_WIX_BASE_URL"]; ok && !strings.HasPrefix(v.value, "https://") {
			t.Errorf("console GALLERYSYNC_WIX_BASE_URL=%q, want https", v.value)
		}
		for _, k := range []string{"GALLERYSYNC_SESSION_KEY", "GALLERYSYNC_WIX_APP_ID", "GALLERYSYNC_WIX_APP_SECRET"} {
			if e[k].secret == "" {
				t.Errorf("console %s does not come from a Secret", k)
			}
		}
	})
}
