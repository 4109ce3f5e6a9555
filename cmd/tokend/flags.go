package main

import (
	"flag"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/tokend/tokend/api"
)

// envName is the variable a flag falls back to: --cache-ttl reads
// TOKEND_CACHE_TTL.
func envName(flagName string) string {
	return "TOKEND_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func str(fs *flag.FlagSet, p *string, name, def, help string) {
	fs.StringVar(p, name, def, help+" ($"+envName(name)+")")
}

func intFlag(fs *flag.FlagSet, p *int, name string, def int, help string) {
	fs.IntVar(p, name, def, help+" ($"+envName(name)+")")
}

func dur(fs *flag.FlagSet, p *time.Duration, name string, def time.Duration, help string) {
	*p = def
	fs.Var(durationValue{p}, name, help+" ($"+envName(name)+")")
}

// durVar defines a duration flag without an environment variable,
// defaulting to zero.
func durVar(fs *flag.FlagSet, p *time.Duration, name, help string) {
	fs.Var(durationValue{p}, name, help)
}

// durationValue is a flag.Value for a time.Duration written as the API
// writes it: "90s", "5m", "1h", "7d".
type durationValue struct{ p *time.Duration }

func (d durationValue) String() string {
	if d.p == nil {
		return "0s"
	}
	return d.p.String()
}

func (d durationValue) Set(s string) error {
	var v api.Duration
	if err := v.Set(s); err != nil {
		return err
	}
	*d.p = v.Std()
	return nil
}

// applyEnv sets every flag of fs that names a TOKEND_* variable in its
// help (those made by str, intFlag and dur) when that variable is set, before
// the command line is parsed (so flags win). A value that does not parse
// is an error, never silently ignored.
func applyEnv(fs *flag.FlagSet, env func(string) string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		v := env(envName(f.Name))
		if v == "" || err != nil || !strings.Contains(f.Usage, "$"+envName(f.Name)) {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = fmt.Errorf("%w: $%s: %v", errUsage, envName(f.Name), e)
			return
		}
		f.DefValue = f.Value.String() // so that -h shows the default in effect
	})
	return err
}

// offlineFlagSet is the flag set of a command that does not talk to a
// server (serve, admin-key), so its help leaves out the client settings.
func offlineFlagSet(c *cmdIO, name, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: tokend %s [flags]\n\n%s\n\nflags:\n", name, help)
		printFlags(fs)
	}
	return fs
}

// printFlags writes the flags of fs as flag.PrintDefaults does, spelled
// with two dashes as the docs spell them (the flag package takes both).
func printFlags(fs *flag.FlagSet) {
	var b strings.Builder
	out := fs.Output()
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(out)
	fmt.Fprint(out, flagLineDash.ReplaceAllString(b.String(), "  --"))
}

// flagLineDash is the single dash that starts each flag line of
// flag.PrintDefaults.
var flagLineDash = regexp.MustCompile(`(?m)^  -`)
