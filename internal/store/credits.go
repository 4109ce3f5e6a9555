package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// creditsQuery loads a key's credits ($1: key ID). The dialect adds row
// locking (dialect.creditsForUpdate).
const creditsQuery = `SELECT credits_remaining, refill_amount, refill_interval_us, refilled_at FROM keys WHERE id = $1`

// credits is a key's credit columns, times in unix microseconds.
type credits struct {
	remaining, refillAmount, intervalUS int64
	refilled                            sql.NullInt64
}

// refill applies the refills due at now and reports whether it changed
// anything. Remaining is reset (not added to) and RefilledAt advances by
// whole intervals, so refills stay on the original schedule. A key with
// an interval but no RefilledAt is refilled at now.
func (c *credits) refill(now int64) bool {
	if c.intervalUS <= 0 {
		return false
	}
	if !c.refilled.Valid {
		c.remaining, c.refilled = c.refillAmount, sql.NullInt64{Int64: now, Valid: true}
		return true
	}
	if now < c.refilled.Int64+c.intervalUS {
		return false
	}
	n := (now - c.refilled.Int64) / c.intervalUS
	c.refilled.Int64 += n * c.intervalUS
	c.remaining = c.refillAmount
	return true
}

// ConsumeCredits takes cost credits from the key with the given ID,
// atomically, after applying any refill due at now. If fewer than cost
// remain it takes none and reports ok false; a refill due is still saved.
// remaining is the balance afterwards. A cost of 0 always succeeds. It
// returns ErrNotFound if there is no such key or the key's credits are
// unlimited (Key.Credits nil). It writes no event.
func (db *DB) ConsumeCredits(ctx context.Context, keyID string, cost int64, now time.Time) (remaining int64, ok bool, err error) {
	if cost < 0 {
		return 0, false, fmt.Errorf("consume credits of key %s: negative cost %d", keyID, cost)
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		var c credits
		var rem sql.NullInt64
		err := tx.QueryRowContext(ctx, db.d.creditsForUpdate, keyID).Scan(&rem, &c.refillAmount, &c.intervalUS, &c.refilled)
		if err != nil {
			return notFound(err)
		}
		if !rem.Valid {
			return ErrNotFound
		}
		c.remaining = rem.Int64
		changed := c.refill(now.UnixMicro())
		if cost <= c.remaining {
			c.remaining -= cost
			ok, changed = true, changed || cost > 0
		}
		remaining = c.remaining
		if !changed {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE keys SET credits_remaining = $2, refilled_at = $3 WHERE id = $1`,
			keyID, c.remaining, c.refilled)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("consume credits of key %s: %w", keyID, err)
	}
	return remaining, ok, nil
}

// RecordUsage adds each usage to its key, in one transaction: the count
// grows by Count and the last-used time becomes LastUsed if that is later.
// Keys that no longer exist are skipped. It writes no event.
func (db *DB) RecordUsage(ctx context.Context, us []Usage) error {
	if len(us) == 0 {
		return nil
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE keys SET usage_count = usage_count + $2,
	last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < $3 THEN $3 ELSE last_used_at END
WHERE id = $1`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, u := range us {
			if _, err := stmt.ExecContext(ctx, u.KeyID, u.Count, micros(u.LastUsed)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record usage: %w", err)
	}
	return nil
}
