package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// hostile is text a server or a command line could put into an error: a
// colour escape, a bidi override, a byte that is not UTF-8 and a newline
// that would forge a line of tokend's own.
const hostile = "red\x1b[31m \u202eevil \xff\ntokend: forged"

// rawUnsafe reports which of hostile's characters s carries raw.
func rawUnsafe(s string) []string {
	var found []string
	for _, c := range []string{"\x1b", "\u202e", "\xff", "\ntokend: forged"} {
		if strings.Contains(s, c) {
			found = append(found, c)
		}
	}
	return found
}

// TestErrorsOnStderrAreEscaped checks that text tokend did not write
// reaches stderr escaped: a server's problem detail and title, plain and
// under --json, and a command-line value an error echoes.
func TestErrorsOnStderrAreEscaped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusConflict)
		b, _ := json.Marshal(map[string]any{"type": "https://tokend.dev/problems/conflict",
			"title": "Conflict \u202e", "status": 409, "detail": "name " + strings.ToValidUTF8(hostile, "")})
		// Put the byte json.Marshal would have replaced back in.
		io.WriteString(w, strings.Replace(string(b), "evil ", "evil \xff", 1))
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{"TOKEND_URL": srv.URL, "TOKEND_TOKEN": adminKey}
	for _, args := range [][]string{
		{"keys", "show", "key_1"},
		{"apis", "list", "--json"},
		{"apis", "list", "--cacert", "/nonexistent/" + hostile},
		{"apis", "list", "--json", "--cacert", "/nonexistent/" + hostile},
	} {
		code, _, stderr := runTokend(t, env, args...)
		if code == exitOK || stderr == "" {
			t.Fatalf("%q: exit %d, stderr %q; want an error", args, code, stderr)
		}
		if raw := rawUnsafe(stderr); raw != nil {
			t.Errorf("%q: stderr carries %q raw: %q", args, raw, stderr)
		}
		if !strings.Contains(stderr, `\x1b[31m`) && !strings.Contains(stderr, `\u001b[31m`) {
			t.Errorf("%q: stderr lost the escaped text: %q", args, stderr)
		}
	}
}

// TestJoinedErrorsKeepTheirLines checks that the escaping keeps the
// newlines tokend puts between the problems it reports at once.
func TestJoinedErrorsKeepTheirLines(t *testing.T) {
	code, _, stderr := runTokend(t, nil, "apis", "list", "--url", "http://", "--token", "a b")
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if code != exitUsage || len(lines) < 2 || !strings.Contains(lines[0], "no host") || lines[1] != "token contains a space or control character" {
		t.Errorf("exit %d, stderr %q; want the URL and token problems on lines of their own", code, stderr)
	}
}
