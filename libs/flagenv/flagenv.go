// Package flagenv lets every flag of a service also be set from the
// environment, the way containers are configured: flag -nats-url reads
// GALLERYSYNC_NATS_URL unless it is given on the command line.
package flagenv

import (
	"flag"
	"fmt"
	"strings"
)

// Prefix is put before every environment variable name.
const Prefix = "GALLERYSYNC_"

// EnvName is the environment variable that sets a flag.
func EnvName(flagName string) string {
	return Prefix + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flagName))
}

// Parse parses args into fs, then sets every flag not given in args from its
// environment variable when that is non-empty. Command-line flags win.
func Parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] {
			return
		}
		name := EnvName(f.Name)
		if v := getenv(name); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", name, v, e)
			}
		}
	})
	return err
}
