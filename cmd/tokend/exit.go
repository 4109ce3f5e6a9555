package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/tokend/tokend/api"
)

// Exit statuses, documented in docs/cli.md. Scripts tell a missing object
// from a refusal from a fault by them.
const (
	exitOK          = 0
	exitError       = 1   // anything else: network, server fault, bad input the server refused with 400
	exitUsage       = 2   // the command line is wrong
	exitNotFound    = 3   // the server answered 404
	exitRefused     = 4   // 401, 403, 409, 429, or "keys verify" of a token that is not VALID
	exitInterrupted = 130 // Ctrl-C or SIGTERM, as shells count it
)

// errUsage marks errors in how a command was invoked; they exit 2.
var errUsage = errors.New("usage")

// errNotValid is returned by "keys verify" when tokend says the token may
// not be used; it exits 4.
var errNotValid = errors.New("token not valid")

// exitStatus maps an error to the documented exit status.
func exitStatus(err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errUsage):
		return exitUsage
	case errors.Is(err, errNotValid):
		return exitRefused
	}
	if p, ok := errors.AsType[*api.Problem](err); ok {
		switch p.Status {
		case 404:
			return exitNotFound
		case 401, 403, 409, 429:
			return exitRefused
		}
	}
	return exitError
}

// report prints err, once, to stderr (as a problem document under --json)
// with what could help next, and returns the exit status. An error quotes
// text tokend did not write (a server's problem detail, a name it echoes,
// a value given on the command line), so everything report prints is made
// printable first: a control, bidi or invalid UTF-8 character in that text
// cannot start a terminal escape or reorder the line.
func report(ctx context.Context, err error, inv string, c *cmdIO) int {
	code := exitStatus(err)
	if code == exitOK {
		return code
	}
	if ctx.Err() != nil && !errors.Is(err, errUsage) {
		code = exitInterrupted
	}
	if errors.Is(err, errNotValid) {
		return code // the verdict is already on stdout
	}
	if c.jsonErrors {
		printJSONError(c.stderr, err, code)
		return code
	}
	fmt.Fprintf(c.stderr, "tokend: %s\n", errorText(err))
	for _, h := range hints(err, code, inv, c) {
		fmt.Fprintln(c.stderr, printable(h))
	}
	return code
}

// hints are the lines that follow an error message.
func hints(err error, code int, inv string, c *cmdIO) []string {
	var out []string
	if code == exitUsage {
		out = append(out, fmt.Sprintf("Run '%s -h' for help.", strings.TrimSpace("tokend "+inv)))
	}
	if code == exitInterrupted && createsSomething(inv) {
		out = append(out, "The request was interrupted: the server may have done it anyway. "+
			"Check before retrying (a secret it printed is lost; rotate it then).")
	}
	if code == exitNotFound && c.baseURL != "" && wrongEndpoint(err) {
		out = append(out, fmt.Sprintf("The server at %s has no such endpoint: is that tokend's base URL? "+
			"It is the server's root, without /v1 (set TOKEND_URL or --url).", c.baseURL))
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		out = append(out, "tokend's TLS certificate is not signed by a CA this machine trusts: pass --cacert FILE "+
			"(for 'tokend serve --tls-self-signed', FILE is tls-dev-cert.pem in its data directory).")
	}
	if errors.Is(err, syscall.ECONNREFUSED) && c.baseURL != "" {
		out = append(out, fmt.Sprintf("Is tokend running at %s? Set TOKEND_URL or --url to its address.", c.baseURL))
	}
	return out
}

// createsSomething reports commands that a server may have carried out
// even though their answer never arrived.
func createsSomething(inv string) bool {
	last := inv[strings.LastIndexByte(inv, ' ')+1:]
	return slices.Contains([]string{"create", "rotate", "rotate-secret"}, last)
}

// wrongEndpoint reports a 404 about the path itself rather than a missing
// object: tokend's "no such endpoint", or a 404 that is not tokend's.
func wrongEndpoint(err error) bool {
	p, ok := errors.AsType[*api.Problem](err)
	return ok && (strings.Contains(p.Detail, "no such endpoint") || !strings.HasPrefix(p.Type, api.ProblemTypeBase))
}

// localProblem is the problem document of an error that did not come
// from the server.
type localProblem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// printJSONError writes err as an RFC 9457 problem document: the server's
// own when it sent one, else one made from the message.
func printJSONError(w io.Writer, err error, code int) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if p, ok := errors.AsType[*api.Problem](err); ok {
		enc.Encode(p)
	} else {
		title := map[int]string{exitUsage: "Usage error", exitInterrupted: "Interrupted"}[code]
		if title == "" {
			title = "Error"
		}
		detail := strings.TrimPrefix(err.Error(), errUsage.Error()+": ")
		enc.Encode(localProblem{Type: "about:blank", Title: title, Detail: detail})
	}
	w.Write(printableJSON(b.Bytes()))
}

// errorText is err's message made printable, keeping the line breaks
// tokend puts between errors (errors.Join's, in its lists of configuration
// problems) and no other: a newline inside a message, where a server's
// text could forge a line, is escaped like any control. It walks the
// wrapped errors, finds each one's text in its wrapper's, and escapes the
// wrapper's own text around them.
func errorText(err error) string {
	var kids []error
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		kids = e.Unwrap()
	case interface{ Unwrap() error }:
		kids = []error{e.Unwrap()}
	}
	msg := err.Error()
	var b strings.Builder
	rest := msg
	for _, k := range kids {
		if k == nil {
			continue
		}
		i := strings.Index(rest, k.Error())
		if i < 0 {
			return printable(msg)
		}
		b.WriteString(between(rest[:i]))
		b.WriteString(errorText(k))
		rest = rest[i+len(k.Error()):]
	}
	b.WriteString(between(rest))
	return b.String()
}

// between is the text a wrapper puts around the errors it wraps, made
// printable; a lone newline is kept, as errors.Join writes it.
func between(s string) string {
	if s == "\n" {
		return s
	}
	return printable(s)
}

// printableJSON escapes, in encoded JSON, the characters printable would
// escape that encoding/json leaves raw (bidi controls, DEL, C1 controls),
// as \uXXXX: the document decodes to the same values and a terminal shows
// it as text. encoding/json has already escaped C0 controls inside strings
// and replaced invalid UTF-8, so a raw newline is the indentation's.
func printableJSON(b []byte) []byte {
	var out bytes.Buffer
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r != '\n' && unsafeRune(r) {
			fmt.Fprintf(&out, `\u%04x`, r)
		} else {
			out.Write(b[:n])
		}
		b = b[n:]
	}
	return out.Bytes()
}

// invocation names the command args run, such as "keys create", for the
// pointer to its help.
func invocation(args []string) string {
	if len(args) == 0 {
		return ""
	}
	if len(args) > 1 {
		if cmds, ok := groups()[args[0]]; ok {
			for _, cmd := range cmds {
				if cmd.name == args[1] {
					return args[0] + " " + args[1]
				}
			}
		}
		if args[0] == "admin-key" && args[1] == "create" {
			return "admin-key create"
		}
	}
	if slices.Contains(topCommands, args[0]) {
		return args[0]
	}
	return ""
}

// wantsJSON reports whether --json is among the flags of args, so that
// even an error in parsing them is reported as JSON.
func wantsJSON(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "--json", "-json", "--json=true", "-json=true":
			return true
		}
	}
	return false
}
