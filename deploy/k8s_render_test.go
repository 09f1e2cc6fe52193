package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// scaledObject is the part of KEDA's ScaledObject (keda.sh/v1alpha1) these
// manifests use, decoded strictly like the built-in kinds: a field KEDA does
// not know, or this struct does not list, fails the test.
type scaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		ScaleTargetRef struct {
			APIVersion string `json:"apiVersion,omitempty"`
			Kind       string `json:"kind,omitempty"`
			Name       string `json:"name"`
		} `json:"scaleTargetRef"`
		PollingInterval *int32 `json:"pollingInterval,omitempty"`
		CooldownPeriod  *int32 `json:"cooldownPeriod,omitempty"`
		MinReplicaCount *int32 `json:"minReplicaCount,omitempty"`
		MaxReplicaCount *int32 `json:"maxReplicaCount,omitempty"`
		Triggers        []struct {
			Type     string            `json:"type"`
			Name     string            `json:"name,omitempty"`
			Metadata map[string]string `json:"metadata"`
		} `json:"triggers"`
	} `json:"spec"`
}

// rendered is what one overlay renders to, decoded by kind.
type rendered struct {
	overlay         string
	namespaces      []corev1.Namespace
	configMaps      []corev1.ConfigMap
	secrets         []corev1.Secret
	services        []corev1.Service
	deployments     []appsv1.Deployment
	statefulSets    []appsv1.StatefulSet
	jobs            []batchv1.Job
	pdbs            []policyv1.PodDisruptionBudget
	hpas            []autoscalingv2.HorizontalPodAutoscaler
	networkPolicies []networkingv1.NetworkPolicy
	scaledObjects   []scaledObject
}

// overlays are the folders of deploy/k8s/overlays.
func overlays(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(repoRoot(t), "deploy", "k8s", "overlays"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	if len(out) == 0 {
		t.Fatal("no overlays")
	}
	return out
}

// render builds an overlay with kustomize, as kubectl apply -k does, and
// decodes every object strictly into its API type.
func render(t *testing.T, overlay string) *rendered {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "deploy", "k8s", "overlays", overlay)
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", overlay, err)
	}
	r := &rendered{overlay: overlay}
	for _, res := range m.Resources() {
		y, err := res.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		if err := r.add(res.GetApiVersion(), res.GetKind(), y); err != nil {
			t.Errorf("%s: %s %s: %v", overlay, res.GetKind(), res.GetName(), err)
		}
	}
	return r
}

// add decodes one object into its type; unknown kinds and unknown fields
// are errors.
func (r *rendered) add(apiVersion, kind string, y []byte) error {
	strict := func(want string, into any) error {
		if apiVersion != want {
			return fmt.Errorf("apiVersion %s, want %s", apiVersion, want)
		}
		return yaml.UnmarshalStrict(y, into)
	}
	switch kind {
	case "Namespace":
		var o corev1.Namespace
		err := strict("v1", &o)
		r.namespaces = append(r.namespaces, o)
		return err
	case "ConfigMap":
		var o corev1.ConfigMap
		err := strict("v1", &o)
		r.configMaps = append(r.configMaps, o)
		return err
	case "Secret":
		var o corev1.Secret
		err := strict("v1", &o)
		r.secrets = append(r.secrets, o)
		return err
	case "Service":
		var o corev1.Service
		err := strict("v1", &o)
		r.services = append(r.services, o)
		return err
	case "Deployment":
		var o appsv1.Deployment
		err := strict("apps/v1", &o)
		r.deployments = append(r.deployments, o)
		return err
	case "StatefulSet":
		var o appsv1.StatefulSet
		err := strict("apps/v1", &o)
		r.statefulSets = append(r.statefulSets, o)
		return err
	case "Job":
		var o batchv1.Job
		err := strict("batch/v1", &o)
		r.jobs = append(r.jobs, o)
		return err
	case "PodDisruptionBudget":
		var o policyv1.PodDisruptionBudget
		err := strict("policy/v1", &o)
		r.pdbs = append(r.pdbs, o)
		return err
	case "HorizontalPodAutoscaler":
		var o autoscalingv2.HorizontalPodAutoscaler
		err := strict("autoscaling/v2", &o)
		r.hpas = append(r.hpas, o)
		return err
	case "NetworkPolicy":
		var o networkingv1.NetworkPolicy
		err := strict("networking.k8s.io/v1", &o)
		r.networkPolicies = append(r.networkPolicies, o)
		return err
	case "ScaledObject":
		var o scaledObject
		err := strict("keda.sh/v1alpha1", &o)
		r.scaledObjects = append(r.scaledObjects, o)
		return err
	}
	return fmt.Errorf("kind %s is not expected here", kind)
}

// workload is a pod template and what owns it.
type workload struct {
	kind, name, namespace string
	replicas              *int32
	template              corev1.PodTemplateSpec
}

func (r *rendered) workloads() []workload {
	var out []workload
	for _, d := range r.deployments {
		out = append(out, workload{"Deployment", d.Name, d.Namespace, d.Spec.Replicas, d.Spec.Template})
	}
	for _, s := range r.statefulSets {
		out = append(out, workload{"StatefulSet", s.Name, s.Namespace, s.Spec.Replicas, s.Spec.Template})
	}
	for _, j := range r.jobs {
		out = append(out, workload{"Job", j.Name, j.Namespace, nil, j.Spec.Template})
	}
	return out
}

func (r *rendered) deployment(t *testing.T, name string) appsv1.Deployment {
	t.Helper()
	for _, d := range r.deployments {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("%s: no Deployment %s", r.overlay, name)
	return appsv1.Deployment{}
}

func (r *rendered) statefulSet(t *testing.T, name string) appsv1.StatefulSet {
	t.Helper()
	for _, s := range r.statefulSets {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("%s: no StatefulSet %s", r.overlay, name)
	return appsv1.StatefulSet{}
}

func (r *rendered) configMap(t *testing.T, name string) corev1.ConfigMap {
	t.Helper()
	for _, c := range r.configMaps {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("%s: no ConfigMap %s", r.overlay, name)
	return corev1.ConfigMap{}
}

func (r *rendered) service(name string) (corev1.Service, bool) {
	for _, s := range r.services {
		if s.Name == name {
			return s, true
		}
	}
	return corev1.Service{}, false
}

// envValue is where a container's variable comes from.
type envValue struct {
	value  string // a literal, from the manifest or a ConfigMap
	secret string // "<secret>/<key>" when it comes from a Secret
	other  bool   // a field or resource reference
}

// containerEnv is a container's environment as the kubelet builds it:
// envFrom ConfigMaps first, then env.
func (r *rendered) containerEnv(t *testing.T, c corev1.Container) map[string]envValue {
	t.Helper()
	out := map[string]envValue{}
	for _, src := range c.EnvFrom {
		if src.ConfigMapRef == nil {
			t.Errorf("%s: container %s: envFrom other than a ConfigMap", r.overlay, c.Name)
			continue
		}
		for k, v := range r.configMap(t, src.ConfigMapRef.Name).Data {
			out[src.Prefix+k] = envValue{value: v}
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			out[e.Name] = envValue{value: e.Value}
		case e.ValueFrom.SecretKeyRef != nil:
			out[e.Name] = envValue{secret: e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key}
		case e.ValueFrom.ConfigMapKeyRef != nil:
			cm := r.configMap(t, e.ValueFrom.ConfigMapKeyRef.Name)
			out[e.Name] = envValue{value: cm.Data[e.ValueFrom.ConfigMapKeyRef.Key]}
		default:
			out[e.Name] = envValue{other: true}
		}
	}
	return out
}

// imageName is a container image without its tag: gallerysync/ingress.
func imageName(image string) string {
	name, _, _ := strings.Cut(image, "@")
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i]
	}
	return name
}

// serviceOf is the deployable a container runs ("" for third-party images).
func serviceOf(image string) string {
	name := imageName(image)
	if svc, ok := strings.CutPrefix(name, "gallerysync/"); ok {
		return svc
	}
	if i := strings.LastIndex(name, "/gallerysync/"); i >= 0 {
		return name[i+len("/gallerysync/"):]
	}
	return ""
}

func TestOverlaysRender(t *testing.T) {
	t.Parallel()
	for _, o := range overlays(t) {
		t.Run(o, func(t *testing.T) {
			t.Parallel()
			r := render(t, o)
			if len(r.deployments) == 0 || len(r.statefulSets) == 0 {
				t.Fatalf("rendered %d Deployments and %d StatefulSets", len(r.deployments), len(r.statefulSets))
			}
			var names []string
			for _, w := range r.workloads() {
				names = append(names, w.name)
			}
			for _, want := range []string{"ingress", "mapping", "wix-writer", "console", "nats", "redis"} {
				if !slices.Contains(names, want) {
					t.Errorf("no workload %s (have %v)", want, names)
				}
			}
			for _, w := range r.workloads() {
				for _, c := range w.template.Spec.Containers {
					if serviceOf(c.Image) == "sandbox" {
						t.Errorf("%s %s runs the sandbox: it is for local demos only", w.kind, w.name)
					}
				}
			}
		})
	}
}

func TestStrictDecodingRefusesUnknownFields(t *testing.T) {
	t.Parallel()
	var r rendered
	bad := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replica: 2\n"
	if err := r.add("apps/v1", "Deployment", []byte(bad)); err == nil {
		t.Error("a Deployment with spec.replica (a typo) decoded without error")
	}
	so := "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: x}\nspec:\n  scaleTargetRef: {name: x}\n  maxReplicas: 3\n  triggers: []\n"
	if err := r.add("keda.sh/v1alpha1", "ScaledObject", []byte(so)); err == nil {
		t.Error("a ScaledObject with spec.maxReplicas (not a KEDA field) decoded without error")
	}
	if err := r.add("v1", "Pod", []byte("apiVersion: v1\nkind: Pod\n")); err == nil {
		t.Error("an unexpected kind decoded without error")
	}
}
