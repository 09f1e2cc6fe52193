// Command smoke checks a running `make run`: it changes an item of the linked
// demo gallery as the site owner and watches the Mastodon account. It prints
// PASS or FAIL with what it saw.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"gallerysync.dev/libs/flagenv"
	"gallerysync.dev/services/allinone/smoke"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("smoke", flag.ContinueOnError)
	dataDir := fs.String("data-dir", ".data", "data folder of the running stack (holds demo.json)")
	within := fs.Duration("within", 2*time.Second, "how long a change may take to reach Mastodon")
	settle := fs.Duration("settle", 1500*time.Millisecond, "how long to watch for late extra writes")
	if err := flagenv.Parse(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	b, err := os.ReadFile(filepath.Join(*dataDir, "demo.json"))
	if err != nil {
		return fmt.Errorf("FAIL: no running demo (start it with make run): %w", err)
	}
	var t smoke.Target
	if err := json.Unmarshal(b, &t); err != nil {
		return fmt.Errorf("FAIL: demo.json: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	opt := smoke.Options{Within: *within, Settle: *settle, Nonce: strconv.FormatInt(time.Now().UnixNano(), 36)}
	rep, err := smoke.Run(ctx, t, opt)
	if err == nil && rep.Passed() {
		var more smoke.Report
		more, err = smoke.RunPlatformToWix(ctx, t, opt)
		rep.Checks = append(rep.Checks, more.Checks...)
	}
	for _, c := range rep.Checks {
		verdict := "ok  "
		if !c.OK {
			verdict = "FAIL"
		}
		fmt.Fprintf(out, "%s %-22s %s\n", verdict, c.Name, c.Detail)
	}
	if err != nil {
		return fmt.Errorf("FAIL: %w", err)
	}
	if !rep.Passed() {
		return errors.New("FAIL")
	}
	fmt.Fprintln(out, "PASS")
	return nil
}
