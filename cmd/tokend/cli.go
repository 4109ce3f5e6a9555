package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

// defaultURL is where the CLI looks for tokend when TOKEND_URL is unset.
const defaultURL = "http://127.0.0.1:8080"

// requestTimeout bounds each call to the server.
const requestTimeout = 30 * time.Second

// cmdIO is what a client subcommand reads from and writes to.
type cmdIO struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	env            func(string) string
	now            func() time.Time
	// jsonErrors prints errors as problem documents (--json).
	jsonErrors bool
	// baseURL is the server a client command talks to, for hints.
	baseURL string
}

// command is one leaf of a command group such as "apis" or "keys".
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, c *cmdIO, args []string) error
}

// dispatch runs the command of group named by args[0]. A request for help
// prints the group's usage and succeeds.
func dispatch(ctx context.Context, group string, cmds []command, c *cmdIO, args []string) error {
	if len(args) == 0 {
		printGroupUsage(c.stderr, group, cmds)
		return fmt.Errorf("%w: tokend %s needs a command", errUsage, group)
	}
	c.jsonErrors = c.jsonErrors || wantsJSON(args[1:])
	switch args[0] {
	case "help", "-h", "-help", "--help":
		printGroupUsage(c.stdout, group, cmds)
		return nil
	}
	for _, cmd := range cmds {
		if cmd.name == args[0] {
			err := cmd.run(ctx, c, args[1:])
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
	}
	names := make([]string, len(cmds))
	for i, cmd := range cmds {
		names[i] = cmd.name
	}
	return unknownCommand(args[0], "tokend "+group, names)
}

func printGroupUsage(w io.Writer, group string, cmds []command) {
	fmt.Fprintf(w, "usage: tokend %s <command> [flags]\n\ncommands:\n", group)
	for _, cmd := range cmds {
		fmt.Fprintf(w, "  %-14s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintf(w, "\nRun 'tokend %s <command> -h' for a command's flags.\n", group)
}

// connHelp explains the connection settings in every command's help.
const connHelp = `
Connection: TOKEND_URL (default ` + defaultURL + `) and TOKEND_TOKEN, an admin
key. Prefer TOKEND_TOKEN to --token: a flag's value shows in process lists
and shell history.
`

// personHelp explains the connection of the person's commands.
const personHelp = `
Connection: the server and token 'tokend login' stored in your config directory
(no admin key), and TOKEND_CACERT for a private CA.
`

// newFlagSet returns a flag set for "tokend <usage>" that reports to stderr.
func newFlagSet(c *cmdIO, name, usage, help string) *flag.FlagSet {
	return flagSet(c, name, usage, help, connHelp)
}

// newPersonFlagSet is newFlagSet for the commands a person runs with
// their stored login (login.go, pat.go).
func newPersonFlagSet(c *cmdIO, name, usage, help string) *flag.FlagSet {
	return flagSet(c, name, usage, help, personHelp)
}

func flagSet(c *cmdIO, name, usage, help, footer string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: tokend %s\n\n%s\n\nflags:\n", usage, help)
		printFlags(fs)
		fmt.Fprint(fs.Output(), footer)
	}
	return fs
}

// connFlags are the flags every client command shares.
type connFlags struct {
	url, token, cacert string
	json               bool
}

func (f *connFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "url", "", "tokend base `URL` (default $TOKEND_URL, else "+defaultURL+")")
	fs.StringVar(&f.token, "token", "", "the admin `key` to call tokend with (default $TOKEND_TOKEN; discouraged: visible in process lists)")
	fs.StringVar(&f.cacert, "cacert", "", "PEM `file` of the CA certificates that sign tokend's TLS certificate (default $TOKEND_CACERT, else the system's and $SSL_CERT_FILE)")
	fs.BoolVar(&f.json, "json", false, "print the API's JSON instead of a table, and errors as JSON")
}

// client builds a client from the flags, falling back to the environment.
func (f *connFlags) client(c *cmdIO) (*client.Client, error) {
	base, err := baseURL(f.url, c.env("TOKEND_URL"))
	if err != nil {
		return nil, err
	}
	c.baseURL = base
	token := firstNonEmpty(f.token, c.env("TOKEND_TOKEN"))
	if token == "" {
		return nil, fmt.Errorf("%w: no admin key: set TOKEND_TOKEN to the key tokend printed at its first start, "+
			"or mint one with 'tokend admin-key create'", errUsage)
	}
	hc, err := httpClient(firstNonEmpty(f.cacert, c.env("TOKEND_CACERT")))
	if err != nil {
		return nil, err
	}
	cl, err := client.New(client.Config{URL: base, Token: token, HTTPClient: hc})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	warnPlainHTTP(c.stderr, base)
	return cl, nil
}

// baseURL picks --url, else $TOKEND_URL, else the default, and explains
// the usual slip of leaving out the scheme.
func baseURL(flagURL, envURL string) (string, error) {
	base, from := flagURL, "--url"
	if base == "" {
		base, from = envURL, "TOKEND_URL"
	}
	if base == "" {
		return defaultURL, nil
	}
	if !strings.Contains(base, "://") {
		return "", fmt.Errorf("%w: %s %q has no scheme: add http:// (or https:// when tokend serves TLS), such as http://%s",
			errUsage, from, base, base)
	}
	return base, nil
}

// httpClient is the client's transport: the default one with a timeout,
// trusting only the CAs in cacert when it is set.
func httpClient(cacert string) (*http.Client, error) {
	hc := &http.Client{Timeout: requestTimeout}
	if cacert == "" {
		return hc, nil
	}
	pem, err := os.ReadFile(cacert)
	if err != nil {
		return nil, fmt.Errorf("%w: --cacert: %w", errUsage, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: --cacert %s holds no PEM certificate", errUsage, cacert)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	hc.Transport = tr
	return hc, nil
}

// warnPlainHTTP warns when the admin key would cross a network unencrypted.
func warnPlainHTTP(w io.Writer, base string) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" {
		return
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return
	}
	fmt.Fprintf(w, "warning: sending the admin key to %s over plain http\n", printable(u.Host))
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// parseArgs parses flags that may come before, between or after positional
// arguments ("keys rotate ID --grace 1h"), and returns the positionals.
// After "--" everything is positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := quietParse(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// quietParse parses args with fs. The flag package prints an error and
// the whole help on a mistake; tokend prints the error once, in its own
// words, and the help only when asked for (-h).
func quietParse(fs *flag.FlagSet, args []string) error {
	help, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = help
	fs.SetOutput(out)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		help()
		return err
	}
	return flagError(fs, err)
}

// connect finishes a client command's flag set: it parses args, checks
// that n positional arguments remain (what describes them for the usage
// error) and returns them with a client of the configured server.
func connect(c *cmdIO, fs *flag.FlagSet, conn *connFlags, args []string, n int, what string) ([]string, *client.Client, error) {
	conn.register(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, nil, err
	}
	if err := wantArgs(fs, pos, n, what); err != nil {
		return nil, nil, err
	}
	cl, err := conn.client(c)
	return pos, cl, err
}

// wantArgs checks the number of positional arguments.
func wantArgs(fs *flag.FlagSet, pos []string, n int, what string) error {
	if len(pos) != n {
		return fmt.Errorf("%w: tokend %s takes %s", errUsage, fs.Name(), what)
	}
	return nil
}

// setFlags returns the names of the flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// csvFlag is a list flag: comma-separated and repeatable. Giving it an
// empty value sets an empty list.
type csvFlag []string

func (f *csvFlag) String() string { return strings.Join(*f, ",") }

func (f *csvFlag) Set(s string) error {
	if *f == nil {
		*f = []string{}
	}
	*f = append(*f, splitCSV(s)...)
	return nil
}

// splitCSV splits s at commas, trimming spaces and dropping empty items.
func splitCSV(s string) []string {
	out := []string{}
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// rateLimitsFlag is a repeatable name:limit:window flag.
type rateLimitsFlag []api.RateLimit

func (f *rateLimitsFlag) String() string {
	var s []string
	for _, rl := range *f {
		s = append(s, formatRateLimit(rl))
	}
	return strings.Join(s, " ")
}

func (f *rateLimitsFlag) Set(s string) error {
	rl, err := parseRateLimit(s)
	if err != nil {
		return err
	}
	*f = append(*f, rl)
	return nil
}

// parseRateLimit parses "name:limit:window", such as "default:100:1m".
func parseRateLimit(s string) (api.RateLimit, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 || parts[0] == "" {
		return api.RateLimit{}, fmt.Errorf("rate limit %q: want name:limit:window, such as default:100:1m", s)
	}
	limit, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || limit <= 0 {
		return api.RateLimit{}, fmt.Errorf("rate limit %q: limit must be a positive integer", s)
	}
	window, err := api.ParseDuration(parts[2])
	if err != nil || window <= 0 {
		return api.RateLimit{}, fmt.Errorf("rate limit %q: window must be a positive duration, such as 1m, 1h or 1d", s)
	}
	return api.RateLimit{Name: parts[0], Limit: limit, Window: api.Duration(window)}, nil
}

// parseRefill parses "amount:interval", such as "1000:24h".
func parseRefill(s string) (api.Refill, error) {
	amount, interval, ok := strings.Cut(s, ":")
	if !ok {
		return api.Refill{}, fmt.Errorf("refill %q: want amount:interval, such as 1000:24h", s)
	}
	n, err := strconv.ParseInt(amount, 10, 64)
	if err != nil || n <= 0 {
		return api.Refill{}, fmt.Errorf("refill %q: amount must be a positive integer", s)
	}
	d, err := api.ParseDuration(interval)
	if err != nil || d <= 0 {
		return api.Refill{}, fmt.Errorf("refill %q: interval must be a positive duration, such as 24h or 7d", s)
	}
	return api.Refill{Amount: n, Interval: api.Duration(d)}, nil
}

// timeFlag is an RFC 3339 time.
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(s string) error {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("want an RFC 3339 time, such as 2030-01-02T15:04:05Z")
	}
	f.t = t
	return nil
}
