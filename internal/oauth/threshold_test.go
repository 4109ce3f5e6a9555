package oauth

import (
	"fmt"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/ids"
)

// TestThrottleStartsRightAfterTheDocumentedCount fails exactly as often
// as docs/api.md allows (20 per client id, 200 per address): each of
// those failures is 401, and the next attempt is 429, right credentials
// included for the client id (newcomer walk-through C14, off by one).
func TestThrottleStartsRightAfterTheDocumentedCount(t *testing.T) {
	s, c, secret := newTestService(t)
	auth := func(id, secret, ip string) error {
		_, err := s.Authenticate(t.Context(), Credentials{Basic: true, BasicID: id, BasicSecret: secret, IP: ip})
		return err
	}
	status := func(err error) int {
		if e, ok := err.(*Error); ok {
			return e.Status
		}
		if err == nil {
			return 200
		}
		return -1
	}
	tests := []struct {
		name  string
		allow int
		fail  func(i int) error
		next  func() error
	}{
		{"per client id", 20,
			func(i int) error { return auth(c.ID, "tkcs_wrong", fmt.Sprintf("192.0.2.%d", i+1)) },
			func() error { return auth(c.ID, secret, "198.51.100.1") }},
		{"per address", 200,
			func(int) error { return auth(ids.New(ClientIDPrefix, time.Now()), "tkcs_wrong", "203.0.113.7") },
			func() error { return auth(ids.New(ClientIDPrefix, time.Now()), "tkcs_wrong", "203.0.113.7") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.allow {
				if got := status(tt.fail(i)); got != 401 {
					t.Fatalf("failure %d of %d: status %d, want 401", i+1, tt.allow, got)
				}
			}
			if got := status(tt.next()); got != 429 {
				t.Errorf("the attempt after %d failures: status %d, want 429", tt.allow, got)
			}
		})
	}
}
