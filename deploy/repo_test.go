package deploy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// repoRoot is the repository's top folder, the parent of deploy/.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(wd)
	if _, err := os.Stat(filepath.Join(root, "go.work")); err != nil {
		t.Fatalf("repository root not found above %s: %v", wd, err)
	}
	return root
}

// readRepoFile returns a file of the repository by its slash path.
func readRepoFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// deployables are the folders of services/ that hold a Dockerfile: the
// images of the project.
func deployables(t *testing.T) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(repoRoot(t), "services", "*", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range matches {
		names = append(names, filepath.Base(filepath.Dir(m)))
	}
	if len(names) == 0 {
		t.Fatal("no services/*/Dockerfile")
	}
	slices.Sort(names)
	return names
}

// adapters are the platform names the platform-writer accepts for -platform:
// the Name constants of the adapter packages its newAdapter switch names.
func adapters(t *testing.T) []string {
	t.Helper()
	root := repoRoot(t)
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(root, "services", "platform-writer", "run.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string]string{} // package name -> import path
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		name := filepath.Base(path)
		if imp.Name != nil {
			name = imp.Name.Name
		}
		imports[name] = path
	}
	var names []string
	ast.Inspect(f, func(n ast.Node) bool {
		fn, ok := n.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "newAdapter" {
			return true
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			cc, ok := n.(*ast.CaseClause)
			if !ok {
				return true
			}
			for _, e := range cc.List {
				sel, ok := e.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "Name" {
					t.Fatalf("newAdapter: case %T is not <adapter>.Name", e)
				}
				pkg := sel.X.(*ast.Ident).Name
				names = append(names, adapterName(t, root, imports[pkg]))
			}
			return true
		})
		return false
	})
	if len(names) == 0 {
		t.Fatal("no adapter in platform-writer's newAdapter")
	}
	slices.Sort(names)
	return names
}

// adapterName reads `const Name = "..."` of the libs package at importPath.
func adapterName(t *testing.T, root, importPath string) string {
	t.Helper()
	rel, ok := strings.CutPrefix(importPath, "gallerysync.dev/libs/")
	if !ok {
		t.Fatalf("adapter package %q is not under libs", importPath)
	}
	pkgs, err := parser.ParseDir(token.NewFileSet(), filepath.Join(root, "libs", filepath.FromSlash(rel)), func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, d := range f.Decls {
				gd, ok := d.(*ast.GenDecl)
				if !ok || gd.Tok != token.CONST {
					continue
				}
				for _, s := range gd.Specs {
					vs := s.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if n.Name != "Name" || i >= len(vs.Values) {
							continue
						}
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok {
							v, _ := strconv.Unquote(lit.Value)
							return v
						}
					}
				}
			}
		}
	}
	t.Fatalf("no const Name in %s", importPath)
	return ""
}

// isSecretName says whether an environment variable carries a credential:
// its value must come from an env file or a Secret, never from a manifest.
func isSecretName(name string) bool {
	n := strings.ToUpper(name)
	if strings.HasSuffix(n, "_FILE") {
		return false // a path, not the secret
	}
	// PRIVATE_KEY, not PRIVATE: ALLOW_PRIVATE_HOSTS is a setting.
	for _, w := range []string{"SECRET", "PASSWORD", "TOKEN", "AUTH", "PRIVATE_KEY", "CREDENTIAL", "PUBLIC_KEY", "_KEY"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func TestHelpers(t *testing.T) {
	t.Parallel()
	if got := adapters(t); !slices.Contains(got, "mastodon") {
		t.Errorf("adapters() = %v, want mastodon among them", got)
	}
	if got := deployables(t); !slices.Contains(got, "ingress") || slices.Contains(got, "allinone") {
		t.Errorf("deployables() = %v, want ingress and not allinone", got)
	}
	for name, want := range map[string]bool{
		"GALLERYSYNC_SECRET_KEY":          true,
		"GALLERYSYNC_WIX_APP_SECRET":      true,
		"GALLERYSYNC_REDIS_PASSWORD":      true,
		"REDISCLI_AUTH":                   true,
		"GALLERYSYNC_WIX_PUBLIC_KEY":      true,
		"GALLERYSYNC_WIX_PUBLIC_KEY_FILE": false,
		"GALLERYSYNC_NATS_URL":            false,
		"GALLERYSYNC_WIX_APP_ID":          false,
		"GALLERYSYNC_SESSION_KEY":         true,
		"GALLERYSYNC_PRIVATE_KEY":         true,
		"GALLERYSYNC_ALLOW_PRIVATE_HOSTS": false,
	} {
		if got := isSecretName(name); got != want {
			t.Errorf("isSecretName(%s) = %v, want %v", name, got, want)
		}
	}
}
