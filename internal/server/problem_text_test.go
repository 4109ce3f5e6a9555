package server_test

import (
	"strings"
	"testing"
)

// TestProblemDetailIsReadableAsSent: a problem's detail reaches a curl
// user as written, "Bearer <key>", not HTML-escaped as "Bearer
// \u003ckey\u003e" (walk-through M16 and C1).
func TestProblemDetailIsReadableAsSent(t *testing.T) {
	f := newFixture(t)
	resp, _, body := f.rawBody(t, "GET", "/v1/apis", "", "", "none")
	if resp.StatusCode != 401 {
		t.Fatalf("no bearer: status %d, want 401", resp.StatusCode)
	}
	if !strings.Contains(body, `Authorization: Bearer <key>`) || strings.Contains(body, `\u003c`) {
		t.Errorf("401 body %s: want the detail's <key> written as is", body)
	}
}
