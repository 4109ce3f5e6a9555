// Command tokend is the tokend server and its command-line client in one
// binary: "tokend serve" runs the server; "tokend apis" and "tokend keys"
// drive its management API; "tokend admin-key create" works offline on
// the store.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

const usage = `tokend: the API token server

Usage:
  tokend serve [flags]              run the server (tokend serve -h lists flags and env)
  tokend gateway [flags]            run a reverse proxy that checks tokens (tokend gateway -h)
  tokend admin-key create [flags]   mint an admin key offline and print it
  tokend apis <command> [flags]     manage APIs        (create, list, show, update, delete)
  tokend keys <command> [flags]     manage API keys    (create, list, show, update, rotate, revoke, verify)
  tokend signing-keys <command>     JWT signing keys   (list, rotate)
  tokend webhooks <command> [flags] event webhooks     (create, list, show, rotate-secret, delete, deliveries)
  tokend clients <command> [flags]  OAuth clients      (create, list, show, update, rotate-secret, delete)
  tokend users <command> [flags]    people             (create, list, show, update, disable, delete, password-link, reset-mfa)
  tokend login --server URL         sign yourself in through the device flow (no admin key)
  tokend me                         who you are signed in as
  tokend pat <command> [flags]      your personal access tokens (create, list, rotate, revoke)
  tokend approvals <command>        pending tokens and clients (list, approve, deny)
  tokend completion bash|zsh|fish   print a shell completion script
  tokend version                    print the version

The client commands read TOKEND_URL and TOKEND_TOKEN. Exit status: 0 ok, 1 error,
2 usage error, 3 not found, 4 refused (401, 403, 409, 429, or a token that is not VALID).
See docs/cli.md.
`

// groups are the command groups that talk to a server, by name.
func groups() map[string][]command {
	return map[string][]command{
		"apis":         apiCommands(),
		"keys":         keyCommands(),
		"clients":      clientCommands(),
		"users":        userCommands(),
		"signing-keys": signingKeyCommands(),
		"webhooks":     webhookCommands(),
		"pat":          patCommands(),
		"approvals":    approvalCommands(),
	}
}

// topCommands are the first words tokend knows, for "did you mean".
var topCommands = []string{"serve", "gateway", "admin-key", "apis", "keys", "clients", "users", "signing-keys", "webhooks", "login", "me", "pat",
	"approvals", "completion", "version", "help"}

// run is the whole program; main only adds the process around it, so the
// end-to-end test can run the real entry point in process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	c := &cmdIO{stdin: stdin, stdout: stdout, stderr: stderr, env: env, now: time.Now}
	var err error
	switch name := args[0]; name {
	case "serve":
		err = serve(ctx, args[1:], c)
	case "gateway":
		err = runGateway(ctx, args[1:], c)
	case "admin-key":
		err = runAdminKey(ctx, args[1:], c)
	case "login":
		err = runLogin(ctx, args[1:], c)
	case "me":
		err = runMe(ctx, args[1:], c)
	case "apis", "keys", "clients", "users", "signing-keys", "webhooks", "pat", "approvals":
		err = dispatch(ctx, name, groups()[name], c, args[1:])
	case "completion":
		err = runCompletion(args[1:], c)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, versionString())
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		err = unknownCommand(name, "tokend", topCommands)
	}
	return report(ctx, err, invocation(args), c)
}
