package audit

import (
	"context"

	"github.com/tokend/tokend/internal/store"
)

// Log reads the audit log. Events are written only with the change they
// describe (see Change); Log never writes.
type Log struct {
	db *store.DB
}

// NewLog returns the reader of the audit log in db.
func NewLog(db *store.DB) *Log { return &Log{db: db} }

// Events returns the events f selects, newest first.
func (l *Log) Events(ctx context.Context, f store.EventFilter) ([]store.Event, error) {
	return l.db.ListEvents(ctx, f)
}
