package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
)

// runTokend runs run() with env and returns its exit status and output.
func runTokend(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runTokendCtx(t.Context(), env, args...)
}

func runTokendCtx(ctx context.Context, env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errb strings.Builder
	code = run(ctx, args, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		code, out, _ := runTokend(t, nil, args...)
		if code != 0 || !strings.HasPrefix(out, "tokend ") || !strings.Contains(out, "go1.") {
			t.Errorf("tokend %s: exit %d, %q", args[0], code, out)
		}
	}
	old := version
	version = "v1.2.3"
	t.Cleanup(func() { version = old })
	if _, out, _ := runTokend(t, nil, "version"); !strings.HasPrefix(out, "tokend v1.2.3") {
		t.Errorf("with main.version set: %q", out)
	}
}

// TestUsageErrorPrintedOnceWithSuggestion checks that a mistyped command or
// flag prints one error line with the nearest right word and a pointer to
// -h, and no help wall.
func TestUsageErrorPrintedOnceWithSuggestion(t *testing.T) {
	env := map[string]string{"TOKEND_TOKEN": "tokend_x", "TOKEND_URL": "http://127.0.0.1:1"}
	cases := []struct {
		args []string
		want string
		help string
	}{
		{[]string{"key", "list"}, `unknown command "key" for tokend; did you mean "keys"?`, "Run 'tokend -h' for help."},
		{[]string{"keys", "lst"}, `did you mean "list"?`, "Run 'tokend keys -h' for help."},
		{[]string{"signing-keys", "rotat"}, `did you mean "rotate"?`, "Run 'tokend signing-keys -h' for help."},
		{[]string{"keys", "create", "--api-id", "x", "--subject", "s"}, "unknown flag --api-id; did you mean --api?", "Run 'tokend keys create -h' for help."},
		{[]string{"serve", "--port", "8080"}, "unknown flag --port", "Run 'tokend serve -h' for help."},
		{[]string{"keys", "create", "--ttl", "30 days", "--api", "a", "--subject", "s"}, `invalid value "30 days" for --ttl: want a duration string such as "5m", "1h" or "7d"`, ""},
		{[]string{"keys", "rotate", "key_1", "--grace", "5 minutes"}, `for --grace: want a duration string such as "5m"`, ""},
		{[]string{"keys", "create", "--api", "a"}, "--api and --subject are required", "Run 'tokend keys create -h' for help."},
		{[]string{"keys", "verify", "--token", "bill_x"}, `takes one token, or "-"`, ""},
		{[]string{"serve", "--log-level", "verbose"}, `--log-level "verbose": want debug, info, warn or error`, ""},
		{[]string{"completion", "powershell"}, "want bash, zsh or fish", ""},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, _, stderr := runTokend(t, env, c.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr, c.want) || strings.Count(stderr, "tokend: usage:") != 1 {
				t.Errorf("stderr = %q, want one error with %q", stderr, c.want)
			}
			if c.help != "" && !strings.Contains(stderr, c.help) {
				t.Errorf("stderr = %q, want the pointer %q", stderr, c.help)
			}
			if strings.Contains(stderr, "flags:") || strings.Contains(stderr, "Usage:") || strings.Count(stderr, "\n") > 2 {
				t.Errorf("a usage error printed a help wall:\n%s", stderr)
			}
		})
	}
}

// TestExitStatuses checks the documented exit statuses against a real
// server.
func TestExitStatuses(t *testing.T) {
	url, admin, _, _ := startServe(t, t.TempDir())
	cli(t, url, admin, exitOK, "apis", "create", "--name", "Billing", "--audience", "https://b.example",
		"--scopes", "read", "--key-prefix", "bill")
	cases := []struct {
		name  string
		token string
		args  []string
		want  int
	}{
		{"ok", admin, []string{"apis", "list"}, exitOK},
		{"usage", admin, []string{"apis", "show"}, exitUsage},
		{"not found", admin, []string{"keys", "show", "key_06h2it8p2n7rsh7jbtbblg4h74"}, exitNotFound},
		{"unauthorized", "tokend_wrong", []string{"apis", "list"}, exitRefused},
		{"conflict", admin, []string{"apis", "create", "--name", "B", "--audience", "https://b.example", "--key-prefix", "bi2"}, exitRefused},
		{"not valid", admin, []string{"keys", "verify", "bill_nope"}, exitRefused},
		{"bad input", admin, []string{"keys", "create", "--api", "api_nope", "--subject", "s"}, exitError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { cli(t, url, c.token, c.want, c.args...) })
	}
	code, _, _ := runTokend(t, map[string]string{"TOKEND_URL": "http://127.0.0.1:1", "TOKEND_TOKEN": admin}, "apis", "list")
	if code != exitError {
		t.Errorf("unreachable server: exit %d, want %d", code, exitError)
	}
}

// TestConflictNamesTheTakenField checks that a 409 says which unique value
// is taken.
func TestConflictNamesTheTakenField(t *testing.T) {
	url, admin, _, _ := startServe(t, t.TempDir())
	cli(t, url, admin, exitOK, "apis", "create", "--name", "Billing", "--audience", "https://b.example", "--key-prefix", "bill")
	env := map[string]string{"TOKEND_URL": url, "TOKEND_TOKEN": admin}
	for _, c := range []struct{ audience, prefix, want string }{
		{"https://b.example", "other", "audience"},
		{"https://other.example", "bill", "key prefix"},
	} {
		_, _, stderr := runTokend(t, env, "apis", "create", "--name", "x", "--audience", c.audience, "--key-prefix", c.prefix)
		if !strings.Contains(stderr, c.want) || strings.Contains(stderr, "audience, prefix or id") {
			t.Errorf("conflict on %s: %q", c.want, stderr)
		}
	}
}

// TestJSONErrors checks that --json prints errors as a problem document
// on stderr, from the server or made locally.
func TestJSONErrors(t *testing.T) {
	url, admin, _, _ := startServe(t, t.TempDir())
	env := map[string]string{"TOKEND_URL": url, "TOKEND_TOKEN": admin}
	cases := []struct {
		args   []string
		code   int
		status int
		title  string
	}{
		{[]string{"keys", "show", "--json", "key_06h2it8p2n7rsh7jbtbblg4h74"}, exitNotFound, 404, ""},
		{[]string{"keys", "create", "--json", "--api-id", "x"}, exitUsage, 0, "Usage error"},
		{[]string{"apis", "list", "--json", "--url", "127.0.0.1:1"}, exitUsage, 0, "Usage error"},
	}
	for _, c := range cases {
		code, stdout, stderr := runTokend(t, env, c.args...)
		var p struct {
			Type, Title, Detail string
			Status              int
		}
		if err := json.Unmarshal([]byte(stderr), &p); err != nil || p.Type == "" || p.Detail == "" {
			t.Errorf("%v: stderr is not a problem document (%v): %s", c.args, err, stderr)
		}
		if code != c.code || p.Status != c.status || (c.title != "" && p.Title != c.title) || stdout != "" {
			t.Errorf("%v: exit %d, problem %+v, stdout %q; want exit %d, status %d, title %q", c.args, code, p, stdout, c.code, c.status, c.title)
		}
	}
}

// TestBaseURLMistakes checks the messages of a TOKEND_URL without a scheme
// and of one with a path tokend does not serve.
func TestBaseURLMistakes(t *testing.T) {
	url, admin, _, _ := startServe(t, t.TempDir())
	host := strings.TrimPrefix(url, "http://")
	code, _, stderr := runTokend(t, map[string]string{"TOKEND_URL": host, "TOKEND_TOKEN": admin}, "apis", "list")
	if code != exitUsage || !strings.Contains(stderr, "add http://") || strings.Contains(stderr, "first path segment") {
		t.Errorf("no scheme: exit %d, %q", code, stderr)
	}
	code, _, stderr = runTokend(t, map[string]string{"TOKEND_URL": url + "/v1", "TOKEND_TOKEN": admin}, "apis", "list")
	if code != exitNotFound || !strings.Contains(stderr, "The server at "+url+"/v1 has no such endpoint") {
		t.Errorf("base URL with /v1: exit %d, %q", code, stderr)
	}
}

// TestKeyCommandsRefuseSecretsAsIDs checks that a secret given where a key
// ID goes is refused before any request carries it.
func TestKeyCommandsRefuseSecretsAsIDs(t *testing.T) {
	env, got := fakeAPI(t, nil)
	secret := "bill_LSiRCN4Qk0Q8ejnVwqAvJdniDDxGdcCV3GNwGpvzmUE0enlSf"
	for _, args := range [][]string{{"keys", "show", secret}, {"keys", "revoke", secret}, {"keys", "rotate", secret},
		{"keys", "update", secret, "--name", "x"}} {
		_, stderr, err := runCLI(t, env, "", args...)
		if exitStatus(err) != exitUsage || !strings.Contains(err.Error(), "looks like a key's secret") ||
			strings.Contains(err.Error(), secret) || strings.Contains(stderr, secret) {
			t.Errorf("%v: %v", args[:2], err)
		}
	}
	if _, _, err := runCLI(t, env, "", "keys", "show", "api_06h2it8p2n7rsh7jbtbblg4h74"); err == nil || !strings.Contains(err.Error(), "is an API's ID") {
		t.Errorf("API id as key id: %v", err)
	}
	if len(*got) != 0 {
		t.Errorf("the server received %d requests, want none", len(*got))
	}
}

// TestDurationFlagsTakeDays checks --ttl 7d and --grace 1d.
func TestDurationFlagsTakeDays(t *testing.T) {
	env, got := fakeAPI(t, map[string]string{"POST /v1/keys": createdKey, "POST /v1/keys/key_1/rotate": createdKey})
	if _, _, err := runCLI(t, env, "", "keys", "create", "--api", "api_1", "--subject", "s", "--ttl", "7d",
		"--ratelimit", "day:1000:1d"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, env, "", "keys", "rotate", "key_1", "--grace", "1d"); err != nil {
		t.Fatal(err)
	}
	if b := (*got)[0].body; !strings.Contains(b, `"ttl":"168h0m0s"`) || !strings.Contains(b, `"window":"24h0m0s"`) {
		t.Errorf("create body %s", b)
	}
	if b := (*got)[1].body; !strings.Contains(b, `"grace":"24h0m0s"`) {
		t.Errorf("rotate body %s", b)
	}
}

// TestInterruptedCreateSaysItMayExist checks the hint after Ctrl-C on a
// create command whose answer never came.
func TestInterruptedCreateSaysItMayExist(t *testing.T) {
	arrived, done := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-done // the answer never comes
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) })
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-arrived; cancel() }()
	code, _, stderr := runTokendCtx(ctx, map[string]string{"TOKEND_URL": srv.URL, "TOKEND_TOKEN": "tokend_x"},
		"keys", "create", "--api", "api_1", "--subject", "s")
	if code != exitInterrupted || !strings.Contains(stderr, "the server may have done it anyway") {
		t.Errorf("exit %d, %q", code, stderr)
	}
}

// TestCACertFlag checks that --cacert makes the CLI trust a server's
// certificate that the system does not.
func TestCACertFlag(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"apis":[]}`))
	}))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	env := map[string]string{"TOKEND_URL": srv.URL, "TOKEND_TOKEN": "tokend_x"}
	if code, _, stderr := runTokend(t, env, "apis", "list"); code != exitError || !strings.Contains(stderr, "certificate") ||
		!strings.Contains(stderr, "pass --cacert FILE") {
		t.Errorf("without --cacert: exit %d, %q; want the error and a pointer to --cacert", code, stderr)
	}
	if code, _, stderr := runTokend(t, env, "apis", "list", "--cacert", ca); code != exitOK {
		t.Errorf("with --cacert: exit %d, %q", code, stderr)
	}
	env["TOKEND_CACERT"] = ca
	if code, _, stderr := runTokend(t, env, "apis", "list"); code != exitOK {
		t.Errorf("with TOKEND_CACERT: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runTokend(t, env, "apis", "list", "--cacert", filepath.Join(t.TempDir(), "none.pem")); code != exitUsage {
		t.Errorf("missing --cacert file: exit %d, %q", code, stderr)
	}
}

// TestDatabaseTakesOnlyPostgresURLs checks that --database refuses what
// would have become a new SQLite file, without repeating a password.
func TestDatabaseTakesOnlyPostgresURLs(t *testing.T) {
	for _, v := range []string{"mysql://u:hunter2@db/x", "sqlite:///x.db", "./tokend-data/tokend.db", "postgres//u:hunter2@db/x"} {
		for _, cmd := range [][]string{{"serve", "--addr", "127.0.0.1:0"}, {"admin-key", "create"}} {
			dir := t.TempDir()
			args := append(cmd, "--data-dir", dir, "--database", v)
			code, _, stderr := runTokend(t, map[string]string{"TOKEND_KEK": "x"}, args...)
			if code != exitUsage || !strings.Contains(stderr, "postgres:// or postgresql:// URL") || strings.Contains(stderr, "hunter2") {
				t.Errorf("%s --database %s: exit %d, %q", cmd[0], v, code, stderr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("%s --database %s created %d files", cmd[0], v, len(entries))
			}
		}
	}
}

// TestAdminKeyCreateNeedsADatabase checks that admin-key create refuses a
// data directory without a database, and creates one only with --init.
func TestAdminKeyCreateNeedsADatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokend-data")
	code, stdout, stderr := runTokend(t, nil, "admin-key", "create", "--data-dir", dir)
	if code != exitError || stdout != "" || !strings.Contains(stderr, "--init") {
		t.Errorf("no database: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the refused command created %s", dir)
	}
	code, stdout, _ = runTokend(t, nil, "admin-key", "create", "--data-dir", dir, "--init")
	if code != exitOK || !strings.HasPrefix(stdout, "tokend_") {
		t.Errorf("--init: exit %d, %q", code, stdout)
	}
	if code, _, _ = runTokend(t, nil, "admin-key", "create", "--data-dir", dir); code != exitOK {
		t.Errorf("existing database: exit %d", code)
	}
}

// TestServeHelpShowsEnvironmentDefaults checks that -h shows a default a
// TOKEND_* variable changed.
func TestServeHelpShowsEnvironmentDefaults(t *testing.T) {
	_, _, stderr := runTokend(t, map[string]string{"TOKEND_CACHE_TTL": "30s"}, "serve", "-h")
	if !strings.Contains(stderr, "(default 30s)") {
		t.Errorf("serve -h with TOKEND_CACHE_TTL=30s:\n%s", stderr)
	}
}

// TestCompletionScripts checks that each shell's script parses, and runs
// the bash one on sample command lines.
func TestCompletionScripts(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		code, script, stderr := runTokend(t, nil, "completion", sh)
		if code != 0 || !strings.Contains(script, "rotate-secret") || !strings.Contains(script, "subject") {
			t.Fatalf("completion %s: exit %d, %s", sh, code, stderr)
		}
		path := filepath.Join(t.TempDir(), "tokend."+sh)
		os.WriteFile(path, []byte(script), 0o600)
		if bin, err := exec.LookPath(sh); err == nil {
			if out, err := exec.Command(bin, "-n", path).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v: %s", sh, err, out)
			}
		}
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	_, script, _ := runTokend(t, nil, "completion", "bash")
	for line, want := range map[string]string{
		"tokend ke":                   "keys",
		"tokend keys cr":              "create",
		"tokend keys create --sub":    "--subject",
		"tokend clients rotate":       "rotate-secret",
		"tokend serve --data":         "--data-dir",
		"tokend admin-key create --i": "--init",
	} {
		words := strings.Fields(line)
		prog := script + "\nCOMP_WORDS=(" + line + ")\nCOMP_CWORD=" + strconv.Itoa(len(words)-1) + "\n_tokend\necho \"${COMPREPLY[*]}\"\n"
		out, err := exec.Command(bash, "-c", prog).CombinedOutput()
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("completing %q: %q (%v), want %q", line, out, err, want)
		}
	}
}

// TestKeyDisplayHasThePrefix checks that the CLI shows a key as the docs
// do, bill_LSiR…nlSf, not LSiR…nlSf.
func TestKeyDisplayHasThePrefix(t *testing.T) {
	k := api.Key{Prefix: "bill", Start: "LSiR", End: "nlSf"}
	if got := display(&k); got != "bill_LSiR…nlSf" {
		t.Errorf("display = %q, want bill_LSiR…nlSf", got)
	}
}

// TestMisleadingFlagsExplained checks the hints for two mistakes the
// walk-through made: an OAuth client's scopes without the API's ID, and
// --token taken for the token to check.
func TestMisleadingFlagsExplained(t *testing.T) {
	env := map[string]string{"TOKEND_URL": "http://127.0.0.1:1", "TOKEND_TOKEN": "tokend_x"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"clients", "create", "--name", "w", "--scopes", "invoices:read"}, "want API_ID:scope, such as api_…:invoices:read"},
		{[]string{"keys", "verify", "--token", "bill_x"}, "--token is the admin key that calls tokend, not the token to check"},
	} {
		code, _, stderr := runTokend(t, env, c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("tokend %s: exit %d, %q; want %q", strings.Join(c.args, " "), code, stderr, c.want)
		}
	}
}

// TestCompletionKnowsEveryCommand checks that the completion tree and the
// "did you mean" list name the same commands.
func TestCompletionKnowsEveryCommand(t *testing.T) {
	var got []string
	for _, n := range commandTree() {
		got = append(got, n.name)
	}
	if strings.Join(got, " ") != strings.Join(topCommands, " ") {
		t.Errorf("completion has %q, the command list %q", got, topCommands)
	}
}

// TestCACertTrustsTheDevelopmentCertificate checks the path docs/cli.md
// gives: serve --tls-self-signed, then the CLI with --cacert on the
// certificate it wrote.
func TestCACertTrustsTheDevelopmentCertificate(t *testing.T) {
	dir := t.TempDir()
	url, admin, _, _ := startServe(t, dir, "--tls-self-signed")
	url = strings.Replace(url, "http://", "https://", 1)
	env := map[string]string{"TOKEND_URL": url, "TOKEND_TOKEN": admin}
	if code, _, stderr := runTokend(t, env, "apis", "list"); code != exitError || !strings.Contains(stderr, "certificate") {
		t.Errorf("without --cacert: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runTokend(t, env, "apis", "list", "--cacert", filepath.Join(dir, "tls-dev-cert.pem")); code != exitOK {
		t.Errorf("with --cacert: exit %d, %q", code, stderr)
	}
}

// TestEveryHelpPointerWorks checks that the -h a usage error points to
// exits 0, for each command a pointer can name.
func TestEveryHelpPointerWorks(t *testing.T) {
	pointers := [][]string{{"-h"}, {"admin-key", "-h"}, {"admin-key", "create", "-h"}, {"serve", "-h"}, {"completion", "-h"}}
	for g, cmds := range groups() {
		pointers = append(pointers, []string{g, "-h"})
		for _, c := range cmds {
			pointers = append(pointers, []string{g, c.name, "-h"})
		}
	}
	for _, args := range pointers {
		if code, _, stderr := runTokend(t, nil, args...); code != exitOK {
			t.Errorf("tokend %s: exit %d, %q", strings.Join(args, " "), code, stderr)
		}
	}
}

// TestHelpSpellsFlagsWithTwoDashes checks that help shows flags as the
// docs spell them, --api rather than -api.
func TestHelpSpellsFlagsWithTwoDashes(t *testing.T) {
	for _, args := range [][]string{{"keys", "create", "-h"}, {"serve", "-h"}} {
		_, _, stderr := runTokend(t, nil, args...)
		if !strings.Contains(stderr, "\n  --") || regexp.MustCompile(`(?m)^  -[a-z]`).MatchString(stderr) {
			t.Errorf("tokend %v help = %q; want every flag line to start with --", args, stderr)
		}
	}
}
