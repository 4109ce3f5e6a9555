package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// envName is the variable a flag falls back to: --cache-ttl reads
// TOKEND_CACHE_TTL.
func envName(flagName string) string {
	return "TOKEND_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func str(fs *flag.FlagSet, env func(string) string, p *string, name, def, help string) {
	if v := env(envName(name)); v != "" {
		def = v
	}
	fs.StringVar(p, name, def, help+" ($"+envName(name)+")")
}

func intFlag(fs *flag.FlagSet, env func(string) string, p *int, name string, def int, help string) {
	if v, err := strconv.Atoi(env(envName(name))); err == nil {
		def = v
	}
	fs.IntVar(p, name, def, help+" ($"+envName(name)+")")
}

func dur(fs *flag.FlagSet, env func(string) string, p *time.Duration, name string, def time.Duration, help string) {
	if v, err := time.ParseDuration(env(envName(name))); err == nil {
		def = v
	}
	fs.DurationVar(p, name, def, help+" ($"+envName(name)+")")
}

// offlineFlagSet is the flag set of a command that does not talk to a
// server (serve, admin-key), so its help leaves out the client settings.
func offlineFlagSet(c *cmdIO, name, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: tokend %s [flags]\n\n%s\n\nflags:\n", name, help)
		fs.PrintDefaults()
	}
	return fs
}
