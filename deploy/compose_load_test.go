package deploy

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads docker-compose.yml as `docker compose` does from the
// repository root, with the given profiles and GALLERYSYNC_COMPOSE_ENV
// ("" keeps the file's default). The environment of this process is not
// consulted, so a developer's shell cannot change the outcome.
func loadCompose(t *testing.T, envDir string, profiles ...string) *types.Project {
	t.Helper()
	root := repoRoot(t)
	env := []string{}
	if envDir != "" {
		env = append(env, "GALLERYSYNC_COMPOSE_ENV="+envDir)
	}
	opts, err := cli.NewProjectOptions(
		[]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root),
		cli.WithEnv(env),
		cli.WithProfiles(profiles),
		cli.WithName("gallerysync"),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("load docker-compose.yml (profiles %v, env %q): %v", profiles, envDir, err)
	}
	return p
}
