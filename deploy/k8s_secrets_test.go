package deploy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// documentedSecrets reads the `kubectl create secret generic` commands of
// deploy/README.md: secret name -> keys it is created with.
func documentedSecrets(t *testing.T) map[string][]string {
	t.Helper()
	text := strings.ReplaceAll(string(readRepoFile(t, "deploy/README.md")), "\\\n", " ")
	cmd := regexp.MustCompile(`kubectl[^\n]*create secret generic ([a-z0-9-]+)([^\n]*)`)
	key := regexp.MustCompile(`--from-(?:literal|file)=([A-Za-z0-9._-]+)=`)
	out := map[string][]string{}
	for _, m := range cmd.FindAllStringSubmatch(text, -1) {
		for _, k := range key.FindAllStringSubmatch(m[2], -1) {
			out[m[1]] = append(out[m[1]], k[1])
		}
	}
	if len(out) == 0 {
		t.Fatal("deploy/README.md documents no `kubectl create secret generic` command")
	}
	return out
}

func TestCredentialsComeFromDocumentedSecrets(t *testing.T) {
	t.Parallel()
	documented := documentedSecrets(t)
	forEachOverlay(t, func(t *testing.T, r *rendered) {
		if len(r.secrets) > 0 {
			t.Errorf("the overlay renders %d Secrets; credentials are created out of band (deploy/README.md)", len(r.secrets))
		}
		for _, cm := range r.configMaps {
			for k, v := range cm.Data {
				if isSecretName(k) || strings.Contains(v, "PRIVATE KEY") || strings.Contains(v, "-----BEGIN") {
					t.Errorf("ConfigMap %s holds %s, a credential: it belongs in a Secret", cm.Name, k)
				}
			}
		}
		used := map[string]bool{}
		use := func(where, secret, key string, optional *bool) {
			t.Helper()
			used[secret+"/"+key] = true
			if !slices.Contains(documented[secret], key) {
				t.Errorf("%s uses Secret %s key %s, which deploy/README.md does not tell how to create", where, secret, key)
			}
			if optional != nil && *optional {
				t.Errorf("%s: Secret %s is optional; a pod must not start without its credentials", where, secret)
			}
		}
		for _, w := range r.workloads() {
			pod := w.template.Spec
			for _, c := range pod.Containers {
				where := fmt.Sprintf("%s %s", w.kind, w.name)
				for _, e := range c.Env {
					if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
						use(where, e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key, e.ValueFrom.SecretKeyRef.Optional)
						continue
					}
					if isSecretName(e.Name) && e.ValueFrom == nil {
						t.Errorf("%s: %s is set in the manifest; credentials come from Secrets", where, e.Name)
					}
				}
				for k, v := range r.containerEnv(t, c) {
					if isSecretName(k) && v.secret == "" && !v.other {
						t.Errorf("%s: %s does not come from a Secret", where, k)
					}
				}
				if len(c.EnvFrom) > 0 {
					for _, src := range c.EnvFrom {
						if src.SecretRef != nil {
							t.Errorf("%s: envFrom a whole Secret; name each key", where)
						}
					}
				}
			}
			for _, v := range pod.Volumes {
				if v.Secret == nil {
					continue
				}
				if len(v.Secret.Items) == 0 {
					t.Errorf("%s %s: Secret volume %s mounts every key; list the ones it needs", w.kind, w.name, v.Name)
				}
				for _, it := range v.Secret.Items {
					use(w.kind+" "+w.name, v.Secret.SecretName, it.Key, v.Secret.Optional)
				}
			}
		}
		if r.overlay == "prod" {
			// prod uses every documented key: the docs hold nothing stale.
			for secret, keys := range documented {
				for _, k := range keys {
					if !used[secret+"/"+k] {
						t.Errorf("deploy/README.md creates %s key %s, which nothing uses", secret, k)
					}
				}
			}
		}
	})
}
