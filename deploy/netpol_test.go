package deploy

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// source is where a connection comes from.
type source struct {
	name      string
	namespace string            // "" for an address outside the cluster
	labels    map[string]string // the pod's labels
	ip        netip.Addr        // for addresses outside the cluster
}

// admits says whether the NetworkPolicies of ns let src reach a pod with
// podLabels on TCP port, following the NetworkPolicy rules: a pod no
// policy selects (for ingress) takes everything; a selected pod takes what
// any rule of any selecting policy allows.
func admits(t *testing.T, policies []networkingv1.NetworkPolicy, ns string, podLabels map[string]string, src source, port int32) bool {
	t.Helper()
	selected := false
	for _, np := range policies {
		if np.Namespace != ns || !selects(t, &np.Spec.PodSelector, podLabels) || !hasIngressType(np) {
			continue
		}
		selected = true
		for _, rule := range np.Spec.Ingress {
			if portMatches(t, np.Name, rule.Ports, port) && peerMatches(t, np, rule.From, src) {
				return true
			}
		}
	}
	return !selected
}

func hasIngressType(np networkingv1.NetworkPolicy) bool {
	if len(np.Spec.PolicyTypes) == 0 {
		return true // Ingress is implied
	}
	return slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress)
}

func selects(t *testing.T, sel *metav1.LabelSelector, set map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatalf("selector %v: %v", sel, err)
	}
	return s.Matches(labels.Set(set))
}

func portMatches(t *testing.T, policy string, ports []networkingv1.NetworkPolicyPort, port int32) bool {
	t.Helper()
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP {
			continue
		}
		if p.Port == nil {
			return true
		}
		if p.Port.StrVal != "" {
			t.Fatalf("policy %s: named port %q; use numbers so the policy is checkable", policy, p.Port.StrVal)
		}
		end := p.Port.IntVal
		if p.EndPort != nil {
			end = *p.EndPort
		}
		if port >= p.Port.IntVal && port <= end {
			return true
		}
	}
	return false
}

func peerMatches(t *testing.T, np networkingv1.NetworkPolicy, from []networkingv1.NetworkPolicyPeer, src source) bool {
	t.Helper()
	if len(from) == 0 {
		return true
	}
	for _, p := range from {
		if p.IPBlock != nil {
			if src.namespace != "" {
				continue // pod traffic is matched by selectors
			}
			cidr, err := netip.ParsePrefix(p.IPBlock.CIDR)
			if err != nil {
				t.Fatalf("policy %s: %v", np.Name, err)
			}
			excluded := false
			for _, e := range p.IPBlock.Except {
				if ex, err := netip.ParsePrefix(e); err == nil && ex.Contains(src.ip) {
					excluded = true
				}
			}
			if cidr.Contains(src.ip) && !excluded {
				return true
			}
			continue
		}
		if src.namespace == "" {
			continue
		}
		nsOK := src.namespace == np.Namespace
		if p.NamespaceSelector != nil {
			nsOK = selects(t, p.NamespaceSelector, map[string]string{"kubernetes.io/metadata.name": src.namespace})
		}
		podOK := p.PodSelector == nil || selects(t, p.PodSelector, src.labels)
		if nsOK && podOK {
			return true
		}
	}
	return false
}

func TestNetworkPolicies(t *testing.T) {
	t.Parallel()
	forEachOverlay(t, func(t *testing.T, r *rendered) {
		const ns = "gallerysync"
		defaultDeny := false
		for _, np := range r.networkPolicies {
			if np.Namespace != ns {
				t.Errorf("policy %s is in namespace %q", np.Name, np.Namespace)
			}
			if len(np.Spec.PodSelector.MatchLabels) == 0 && len(np.Spec.PodSelector.MatchExpressions) == 0 &&
				hasIngressType(np) && len(np.Spec.Ingress) == 0 {
				defaultDeny = true
			}
		}
		if !defaultDeny {
			t.Fatalf("no default-deny ingress policy (empty podSelector, policyTypes Ingress, no rules)")
		}

		pods := map[string]map[string]string{} // workload -> pod labels
		for _, w := range r.workloads() {
			pods[w.name] = w.template.Labels
		}
		pod := func(name string) source {
			t.Helper()
			l, ok := pods[name]
			if !ok {
				t.Fatalf("no workload %s", name)
			}
			return source{name: name, namespace: ns, labels: l}
		}
		internet := source{name: "internet", ip: netip.MustParseAddr("203.0.113.7")}
		keda := source{name: "keda operator", namespace: "keda", labels: map[string]string{"app": "keda-operator"}}
		prometheus := source{name: "prometheus", namespace: "monitoring", labels: map[string]string{"app.kubernetes.io/name": "prometheus"}}
		stranger := source{name: "a pod of another namespace", namespace: "default", labels: map[string]string{"app.kubernetes.io/name": "ingress"}}

		var writers []source
		for _, d := range r.deployments {
			if n := d.Spec.Template.Labels["app.kubernetes.io/name"]; n == "platform-writer" || n == "wix-writer" {
				writers = append(writers, pod(d.Name))
			}
		}
		// The services: every gallerysync workload that talks to mapping and
		// the bus.
		services := append([]source{pod("ingress"), pod("console")}, writers...)
		everyone := append([]source{internet, keda, prometheus, stranger, pod("mapping"), pod("nats"), pod("redis")}, services...)

		tests := []struct {
			dst   string
			port  int32
			allow []source // every source not listed is refused
		}{
			{"ingress", 8080, everyone},
			{"console", 8081, everyone},
			{"mapping", 9090, services},
			{"nats", 4222, append(append([]source{}, services...), pod("nats"))},
			{"nats", 6222, []source{pod("nats")}},
			{"nats", 8222, []source{keda}},
			{"nats", 7777, []source{prometheus}},
			{"redis", 6379, []source{pod("mapping"), pod("redis")}},
			{"redis", 16379, []source{pod("redis")}},
		}
		for _, w := range writers {
			tests = append(tests, struct {
				dst   string
				port  int32
				allow []source
			}{w.name, int32(exposedPort(t, w.labels["app.kubernetes.io/name"])), []source{prometheus}})
		}
		for _, tt := range tests {
			dst := pods[tt.dst]
			for _, src := range everyone {
				want := slices.ContainsFunc(tt.allow, func(s source) bool { return s.name == src.name })
				if got := admits(t, r.networkPolicies, ns, dst, src, tt.port); got != want {
					t.Errorf("%s -> %s:%d admitted=%v, want %v", src.name, tt.dst, tt.port, got, want)
				}
			}
		}

		// From outside the namespace (an address outside the cluster, or a
		// pod of a namespace with no role here), ingress and the console
		// are the only workloads reachable, on any port any of them
		// listens on or the table above names.
		ports := map[int32]bool{}
		for _, tt := range tests {
			ports[tt.port] = true
		}
		for _, w := range r.workloads() {
			for _, c := range append(append([]corev1.Container{}, w.template.Spec.InitContainers...), w.template.Spec.Containers...) {
				for _, cp := range c.Ports {
					ports[cp.ContainerPort] = true
				}
			}
		}
		public := []string{"ingress", "console"}
		for _, w := range r.workloads() {
			for port := range ports {
				for _, src := range []source{internet, stranger} {
					want := slices.Contains(public, w.name) && port == int32(exposedPort(t, w.name))
					if got := admits(t, r.networkPolicies, ns, w.template.Labels, src, port); got != want {
						t.Errorf("%s -> %s:%d admitted=%v, want %v (only %v take outside traffic, on their own port)", src.name, w.name, port, got, want, public)
					}
				}
			}
		}
	})
}

func TestNetworkPolicyEvaluator(t *testing.T) {
	t.Parallel()
	tcp := corev1.ProtocolTCP
	port := func(p int32) []networkingv1.NetworkPolicyPort {
		v := intOrString(p)
		return []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &v}}
	}
	app := func(n string) map[string]string { return map[string]string{"app": n} }
	policies := []networkingv1.NetworkPolicy{
		{
			ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns"},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: app("db")},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: app("api")}}},
					Ports: port(5432),
				}},
			},
		},
	}
	api := source{name: "api", namespace: "ns", labels: app("api")}
	otherNSAPI := source{name: "api elsewhere", namespace: "other", labels: app("api")}
	web := source{name: "web", namespace: "ns", labels: app("web")}
	outside := source{name: "outside", ip: netip.MustParseAddr("198.51.100.1")}
	for _, tt := range []struct {
		dst  map[string]string
		src  source
		port int32
		want bool
	}{
		{app("db"), api, 5432, true},
		{app("db"), api, 5433, false},
		{app("db"), web, 5432, false},
		{app("db"), otherNSAPI, 5432, false},
		{app("db"), outside, 5432, false},
		{app("web"), outside, 80, true}, // selected by no policy
	} {
		t.Run(fmt.Sprintf("%s to %v:%d", tt.src.name, tt.dst, tt.port), func(t *testing.T) {
			if got := admits(t, policies, "ns", tt.dst, tt.src, tt.port); got != tt.want {
				t.Errorf("admits = %v, want %v", got, tt.want)
			}
		})
	}
}

func intOrString(p int32) intstr.IntOrString { return intstr.FromInt32(p) }
