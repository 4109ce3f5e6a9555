package apikey

import (
	"context"
	"time"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
)

// expiringBatch bounds the tokens one transaction of NoticeExpiringPATs
// claims.
const expiringBatch = 100

// expiringNotice is what the audit event "pat.expiring" records: whose
// token, for which API, and when it expires.
type expiringNotice struct {
	UserID    string    `json:"user_id"`
	APIID     string    `json:"api_id"`
	Name      string    `json:"name"`
	Prefix    string    `json:"prefix"`
	End       string    `json:"end"`
	ExpiresAt time.Time `json:"expires_at"`
}

// NoticeExpiringPATs writes the audit event "pat.expiring" (actor
// system, target the token), and so queues its webhook deliveries, for
// every personal access token not revoked that now expires within
// ExpiringSoon, once per token and expiry, whatever number of nodes run
// it at once (store.ClaimExpiringPATs). A token created with less than
// ExpiringSoon to live is noticed at the next sweep. It returns how many
// tokens it noticed.
func (s *Service) NoticeExpiringPATs(ctx context.Context) (int, error) {
	total := 0
	for {
		now := s.clock()
		ks, err := s.db.ClaimExpiringPATs(ctx, now, now.Add(ExpiringSoon), expiringBatch, func(k store.Key) (store.Event, error) {
			return audit.Change(audit.System, now, "pat.expiring", "pat", k.ID, nil, expiringNotice{UserID: k.UserID,
				APIID: k.APIID, Name: k.Name, Prefix: k.Prefix, End: k.End, ExpiresAt: k.ExpiresAt})
		})
		total += len(ks)
		if err != nil || len(ks) < expiringBatch {
			return total, err
		}
	}
}
