// Command tokend is the tokend server and its command-line client in one
// binary: "tokend serve" runs the server; "tokend apis" and "tokend keys"
// drive its management API; "tokend admin-key create" works offline on
// the store.
package main

import (
	"context"
	"errors"
	"flag"
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
  tokend admin-key create [flags]   mint an admin key offline and print it
  tokend apis <command> [flags]     manage APIs        (create, list, show, update, delete)
  tokend keys <command> [flags]     manage API keys    (create, list, show, update, rotate, revoke, verify)
  tokend signing-keys <command>     JWT signing keys   (list, rotate)
  tokend clients <command> [flags]  OAuth clients      (create, list, show, update, rotate-secret, delete)

The client commands read TOKEND_URL and TOKEND_TOKEN.
`

// run is the whole program; main only adds the process around it, so the
// end-to-end test can run the real entry point in process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	c := &cmdIO{stdin: stdin, stdout: stdout, stderr: stderr, env: env, now: time.Now}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], c)
	case "admin-key":
		err = runAdminKey(ctx, args[1:], c)
	case "apis":
		err = dispatch(ctx, "apis", apiCommands(), c, args[1:])
	case "keys":
		err = dispatch(ctx, "keys", keyCommands(), c, args[1:])
	case "clients":
		err = dispatch(ctx, "clients", clientCommands(), c, args[1:])
	case "signing-keys":
		err = dispatch(ctx, "signing-keys", signingKeyCommands(), c, args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
	return exitCode(err, stderr)
}

func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errNotValid):
		return 1
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "tokend: %v\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "tokend: %v\n", err)
	return 1
}
