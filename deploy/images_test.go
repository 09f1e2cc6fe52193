package deploy

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// contextMatcher is the .dockerignore of the build context.
func contextMatcher(t *testing.T) *patternmatcher.PatternMatcher {
	t.Helper()
	patterns, err := ignorefile.ReadAll(bytes.NewReader(readRepoFile(t, ".dockerignore")))
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	return pm
}

// copyFromContext does what COPY src dst does with the build context:
// a folder's content, or a file, without what .dockerignore leaves out.
func copyFromContext(t *testing.T, pm *patternmatcher.PatternMatcher, root, src, dst string) {
	t.Helper()
	src = strings.TrimSuffix(src, "/")
	from := filepath.Join(root, filepath.FromSlash(src))
	info, err := os.Stat(from)
	if err != nil {
		t.Fatalf("COPY %s: %v", src, err)
	}
	if !info.IsDir() {
		dst = filepath.Join(dst, filepath.Base(from))
	}
	copied := 0
	err = filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		ignored, err := pm.MatchesOrParentMatches(filepath.ToSlash(rel))
		if err != nil || ignored {
			return err
		}
		target := dst
		if info.IsDir() {
			inner, _ := filepath.Rel(from, p)
			target = filepath.Join(dst, inner)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		copied++
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("COPY %s: %v", src, err)
	}
	if copied == 0 {
		t.Fatalf("COPY %s: nothing in the build context (.dockerignore leaves it out)", src)
	}
}

// buildImage replays the build stage of services/<name>/Dockerfile in an
// empty folder that stands for the image's filesystem: its COPYs from the
// build context (.dockerignore applied) and its RUNs. It returns the folder
// holding the built /out.
func buildImage(t *testing.T, name string) string {
	t.Helper()
	root := repoRoot(t)
	stages, err := parseDockerfile(string(readRepoFile(t, "services/"+name+"/Dockerfile")))
	if err != nil {
		t.Fatal(err)
	}
	fsRoot := t.TempDir()
	pm := contextMatcher(t)
	wd := "/"
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "GOWORK=") {
			env = append(env, e)
		}
	}
	for _, in := range stages[0].ins {
		switch in.cmd {
		case "WORKDIR":
			wd = workdir(wd, in.args)
		case "COPY":
			srcs, dst, _ := copySources(in.args)
			for _, src := range srcs {
				copyFromContext(t, pm, root, src, filepath.Join(fsRoot, filepath.FromSlash(workdir(wd, dst))))
			}
		case "RUN":
			// Absolute paths of the image's filesystem live under fsRoot.
			cmd := strings.ReplaceAll(runCommand(in.args), " /out/", " "+fsRoot+"/out/")
			dir := filepath.Join(fsRoot, filepath.FromSlash(wd))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			c := exec.CommandContext(t.Context(), "sh", "-c", cmd)
			c.Dir, c.Env = dir, env
			if out, err := c.CombinedOutput(); err != nil {
				t.Fatalf("RUN %s (in %s): %v\n%s", runCommand(in.args), wd, err, out)
			}
		}
	}
	return fsRoot
}

// flagLine matches a flag in Go's flag usage output.
var flagLine = regexp.MustCompile(`(?m)^\s+-([A-Za-z0-9][A-Za-z0-9._-]*)`)

// binaryFlags runs a binary with -h and returns the GALLERYSYNC_* variable
// of each flag it lists (the libs/flagenv naming).
func binaryFlags(t *testing.T, bin string) map[string]bool {
	t.Helper()
	out, _ := exec.CommandContext(t.Context(), bin, "-h").CombinedOutput() // -h may exit 0 or 2
	flags := map[string]bool{}
	for _, m := range flagLine.FindAllStringSubmatch(string(out), -1) {
		flags["GALLERYSYNC_"+strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(m[1]))] = true
	}
	if len(flags) == 0 {
		t.Fatalf("%s -h lists no flags:\n%s", bin, out)
	}
	return flags
}

// TestImages builds every image's binaries exactly as its Dockerfile's build
// stage would, with nothing but what the stage copies, and checks that every
// GALLERYSYNC_* variable set for that image anywhere (Dockerfile, compose,
// every overlay) is a flag the binary knows: a misspelt variable would be
// silently ignored by the service.
func TestImages(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every image; run without -short")
	}
	t.Parallel()
	var projects []*types.Project
	for _, dir := range []string{"demo", "example"} {
		projects = append(projects, loadCompose(t, dir, "sandbox"))
	}
	var rendered []*rendered
	for _, o := range overlays(t) {
		rendered = append(rendered, render(t, o))
	}
	for _, name := range deployables(t) {
		t.Run(name, func(t *testing.T) {
			fsRoot := buildImage(t, name)
			for _, bin := range []string{name, "probe"} {
				if _, err := os.Stat(filepath.Join(fsRoot, "out", bin)); err != nil {
					t.Fatalf("the build stage made no /out/%s: %v", bin, err)
				}
			}
			flags := binaryFlags(t, filepath.Join(fsRoot, "out", name))
			check := func(where, key string) {
				t.Helper()
				if strings.HasPrefix(key, "GALLERYSYNC_") && !flags[key] {
					t.Errorf("%s sets %s, but %s has no such flag", where, key, name)
				}
			}

			stages, err := parseDockerfile(string(readRepoFile(t, "services/"+name+"/Dockerfile")))
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range stages[len(stages)-1].ins {
				if in.cmd == "ENV" {
					for k := range envPairs(in.args) {
						check("the Dockerfile", k)
					}
				}
			}
			for _, p := range projects {
				for svc, s := range p.Services {
					if imageOf(s) != name {
						continue
					}
					for k := range env(s) {
						check("compose service "+svc, k)
					}
				}
			}
			for _, r := range rendered {
				for _, w := range r.workloads() {
					for _, c := range w.template.Spec.Containers {
						if serviceOf(c.Image) != name {
							continue
						}
						for k := range r.containerEnv(t, c) {
							check(path.Join("overlay", r.overlay, w.name), k)
						}
					}
				}
			}
		})
	}
}
