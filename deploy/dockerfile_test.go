package deploy

import (
	"bufio"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, COPY, RUN, ...
	args string
}

// stage is one FROM and what follows it.
type stage struct {
	image, name string
	ins         []instruction
}

// parseDockerfile splits a Dockerfile into stages. It knows what our
// Dockerfiles use: comments, line continuations and one instruction a line.
func parseDockerfile(text string) ([]stage, error) {
	var stages []stage
	var cur strings.Builder
	flush := func() error {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return nil
		}
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			s := stage{image: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
			return nil
		}
		if len(stages) == 0 {
			return fmt.Errorf("%s before the first FROM", in.cmd)
		}
		stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, in)
		return nil
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "#") || (t == "" && cur.Len() == 0) {
			continue
		}
		if s, ok := strings.CutSuffix(strings.TrimRight(line, " \t"), `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if cur.Len() > 0 {
		return nil, fmt.Errorf("dangling line continuation")
	}
	return stages, nil
}

// copySources are the sources of a COPY without --from, and its destination.
func copySources(args string) (srcs []string, dst string, fromStage string) {
	var words []string
	for _, w := range strings.Fields(args) {
		if v, ok := strings.CutPrefix(w, "--from="); ok {
			fromStage = v
			continue
		}
		if strings.HasPrefix(w, "--") {
			continue
		}
		words = append(words, w)
	}
	return words[:len(words)-1], words[len(words)-1], fromStage
}

// runCommand is a RUN's shell command without its --mount options.
func runCommand(args string) string {
	for strings.HasPrefix(args, "--") {
		_, rest, _ := strings.Cut(args, " ")
		args = strings.TrimSpace(rest)
	}
	return args
}

// envPairs parses ENV k=v k2=v2.
func envPairs(args string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Fields(args) {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

// buildCommand is the one way every Go binary of an image is built.
const buildCommand = `GOWORK=off CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/`

// finalBase is the runtime image every service runs on.
const finalBase = "gcr.io/distroless/static-debian12:nonroot"

// nonroot is the numeric user of the distroless nonroot image, numeric so
// that Kubernetes can verify runAsNonRoot.
const nonroot = "65532:65532"

// listenAddr matches the value of a listen-address variable in a container.
var listenAddr = regexp.MustCompile(`^:(\d+)$`)

func TestDockerfiles(t *testing.T) {
	t.Parallel()
	for _, name := range deployables(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			stages, err := parseDockerfile(string(readRepoFile(t, "services/"+name+"/Dockerfile")))
			if err != nil {
				t.Fatal(err)
			}
			if len(stages) != 2 {
				t.Fatalf("%d stages, want a build stage and a runtime stage", len(stages))
			}
			checkBuildStage(t, name, stages[0])
			checkFinalStage(t, name, stages[1])
		})
	}
}

// allowedSources are all a service's build stage may copy: its module and
// the modules its replace directives point at, and the probe.
func allowedSources(name string) []string {
	return []string{"services/" + name + "/", "libs/", "proto/", "deploy/go.mod", "deploy/go.sum", "deploy/probe/"}
}

func checkBuildStage(t *testing.T, name string, s stage) {
	t.Helper()
	if s.name != "build" {
		t.Errorf("first stage is named %q, want build", s.name)
	}
	if img, tag, _ := strings.Cut(s.image, ":"); img != "golang" || tag == "" || tag == "latest" {
		t.Errorf("build stage FROM %s: want golang with a pinned version", s.image)
	}
	wd := "/"
	var built []string
	for _, in := range s.ins {
		switch in.cmd {
		case "WORKDIR":
			wd = workdir(wd, in.args)
		case "COPY":
			srcs, _, from := copySources(in.args)
			if from != "" {
				t.Errorf("build stage copies from %s", from)
			}
			for _, src := range srcs {
				if !slices.Contains(allowedSources(name), src) {
					t.Errorf("build stage copies %s; it may copy only %v", src, allowedSources(name))
				}
			}
		case "RUN":
			cmd := runCommand(in.args)
			if !strings.Contains(cmd, "go build") {
				continue
			}
			if !strings.HasPrefix(cmd, buildCommand) {
				t.Errorf("RUN %s: want it to start with %s", cmd, buildCommand)
				continue
			}
			out, pkg, _ := strings.Cut(strings.TrimPrefix(cmd, buildCommand), " ")
			built = append(built, out)
			switch out {
			case name:
				if wd != "/src/services/"+name || pkg != "." {
					t.Errorf("%s is built as %q in %s, want . in /src/services/%s", name, pkg, wd, name)
				}
			case "probe":
				if wd != "/src/deploy" || pkg != "./probe" {
					t.Errorf("probe is built as %q in %s, want ./probe in /src/deploy", pkg, wd)
				}
			default:
				t.Errorf("builds an unexpected binary %s", out)
			}
		}
	}
	if slices.Sort(built); !slices.Equal(built, sortedPair(name, "probe")) {
		t.Errorf("build stage builds %v, want %s and probe", built, name)
	}
}

// workdir is where WORKDIR dir leads from wd.
func workdir(wd, dir string) string {
	if path.IsAbs(dir) {
		return path.Clean(dir)
	}
	return path.Join(wd, dir)
}

func sortedPair(a, b string) []string {
	s := []string{a, b}
	slices.Sort(s)
	return s
}

func checkFinalStage(t *testing.T, name string, s stage) {
	t.Helper()
	if s.image != finalBase && s.image != "scratch" {
		t.Errorf("runtime stage FROM %s, want %s", s.image, finalBase)
	}
	var (
		user, entrypoint string
		exposed          []string
		env              = map[string]string{}
		volumes          []string
		copied           []string
	)
	for _, in := range s.ins {
		switch in.cmd {
		case "RUN":
			t.Errorf("runtime stage runs %q: the image has no shell", in.args)
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		case "EXPOSE":
			exposed = append(exposed, strings.Fields(in.args)...)
		case "ENV":
			for k, v := range envPairs(in.args) {
				env[k] = v
			}
		case "VOLUME":
			var v []string
			if err := json.Unmarshal([]byte(in.args), &v); err != nil {
				t.Errorf("VOLUME %s: want the JSON form: %v", in.args, err)
			}
			volumes = append(volumes, v...)
		case "COPY":
			srcs, dst, from := copySources(in.args)
			if from != "build" {
				t.Errorf("runtime stage copies %v from %q, want only from the build stage", srcs, from)
			}
			if dst == "/usr/local/bin/" {
				copied = append(copied, srcs...)
			}
		}
	}
	if user != nonroot {
		t.Errorf("USER %q, want %s", user, nonroot)
	}
	var ep []string
	if err := json.Unmarshal([]byte(entrypoint), &ep); err != nil || len(ep) != 1 || ep[0] != "/usr/local/bin/"+name {
		t.Errorf(`ENTRYPOINT %s, want ["/usr/local/bin/%s"] (exec form: there is no shell)`, entrypoint, name)
	}
	if !slices.Contains(copied, "/out/"+name) || !slices.Contains(copied, "/out/probe") {
		t.Errorf("runtime stage copies %v into /usr/local/bin/, want /out/%s and /out/probe", copied, name)
	}
	// Every exposed port is listened on by a variable set to ":<port>", and
	// every such variable's port is exposed.
	var listened []string
	for k, v := range env {
		if m := listenAddr.FindStringSubmatch(v); m != nil {
			listened = append(listened, m[1])
			if !strings.HasSuffix(k, "_ADDR") {
				t.Errorf("ENV %s=%s: a listen address in a variable not named *_ADDR", k, v)
			}
		}
	}
	slices.Sort(listened)
	slices.Sort(exposed)
	if len(exposed) == 0 || !slices.Equal(listened, exposed) {
		t.Errorf("EXPOSE %v but ENV listens on %v: each exposed port needs its GALLERYSYNC_*_ADDR=:<port>", exposed, listened)
	}
	for k := range env {
		if !strings.HasPrefix(k, "GALLERYSYNC_") {
			t.Errorf("ENV %s: only GALLERYSYNC_* settings belong in the image", k)
		}
	}
	// The only writable place is an explicit volume, and only where the
	// service keeps files (its data dir).
	for _, v := range volumes {
		if v != "/data" {
			t.Errorf("VOLUME %s, want only /data", v)
		}
	}
	if len(volumes) > 0 && env["GALLERYSYNC_DATA_DIR"] != "/data" && name != "sandbox" {
		t.Errorf("VOLUME /data but GALLERYSYNC_DATA_DIR=%q", env["GALLERYSYNC_DATA_DIR"])
	}
}

// exposedPort is the one port an image exposes.
func exposedPort(t *testing.T, name string) int {
	t.Helper()
	stages, err := parseDockerfile(string(readRepoFile(t, "services/"+name+"/Dockerfile")))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range stages[len(stages)-1].ins {
		if in.cmd == "EXPOSE" {
			p, err := strconv.Atoi(strings.Fields(in.args)[0])
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
	}
	t.Fatalf("%s exposes no port", name)
	return 0
}

func TestParseDockerfile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		text    string
		want    []stage
		wantErr bool
	}{
		{
			name: "continuations and comments",
			text: "# c\nFROM golang:1 AS build\nRUN --mount=type=cache,target=/x \\\n    go build \\\n  .\n\nFROM scratch\nUSER 1\n",
			want: []stage{
				{image: "golang:1", name: "build", ins: []instruction{{"RUN", "--mount=type=cache,target=/x      go build    ."}}},
				{image: "scratch", ins: []instruction{{"USER", "1"}}},
			},
		},
		{name: "instruction before FROM", text: "RUN x\n", wantErr: true},
		{name: "dangling continuation", text: "FROM a\nRUN x \\\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseDockerfile(tt.text)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
		})
	}
	if got := runCommand("--mount=a --mount=b go build ."); got != "go build ." {
		t.Errorf("runCommand = %q", got)
	}
}
