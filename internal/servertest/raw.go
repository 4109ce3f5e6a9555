package servertest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// RawRequest sends one request over a fresh TCP connection to base
// (http://host:port) exactly as written: header lines go on the wire
// unchanged, so a test can send what net/http's client would clean up
// (trailing spaces, an empty Authorization value). Host is 127.0.0.1
// unless a line sets it. It returns the response and its body.
func RawRequest(t testing.TB, base, method, target string, lines ...string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	w := bufio.NewWriter(conn)
	fmt.Fprintf(w, "%s %s HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\n", method, target)
	host := true
	for _, l := range lines {
		host = host && !strings.HasPrefix(strings.ToLower(l), "host:")
		fmt.Fprintf(w, "%s\r\n", l)
	}
	if host {
		fmt.Fprintf(w, "Host: 127.0.0.1\r\n")
	}
	fmt.Fprintf(w, "\r\n")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}
