package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// The states of a device authorization request.
const (
	DevicePending  = "pending"
	DeviceApproved = "approved"
	DeviceDenied   = "denied"
	DeviceUsed     = "used"
)

// DeviceCode is a device authorization request (RFC 8628), stored under
// the SHA-256 of its device_code. UserCode is the normalized code the
// person types. Status moves from DevicePending to DeviceApproved (with
// UserID, AuthTime and AMR) or DeviceDenied, and from DeviceApproved to
// DeviceUsed when the client redeems it; PolledAt is the client's last
// poll.
type DeviceCode struct {
	Hash      [32]byte
	UserCode  string
	ClientID  string
	APIID     string
	Scopes    []string
	Status    string
	UserID    string
	AuthTime  time.Time
	AMR       []string
	CreatedAt time.Time
	ExpiresAt time.Time
	PolledAt  time.Time
	Issued    Issued
}

const deviceCols = `hash, user_code, client_id, api_id, scopes, status, user_id, auth_time, amr, created_at, expires_at,
	polled_at, family_id, access_jti, access_expires_at`

func scanDevice(s scanner) (DeviceCode, error) {
	var d DeviceCode
	var hash []byte
	var api, user, family, jti sql.NullString
	var scopes, amr string
	var authTime, created, expires, polled, accessExp sql.NullInt64
	err := s.Scan(&hash, &d.UserCode, &d.ClientID, &api, &scopes, &d.Status, &user, &authTime, &amr, &created, &expires,
		&polled, &family, &jti, &accessExp)
	if err != nil {
		return DeviceCode{}, notFound(err)
	}
	if len(hash) != 32 {
		return DeviceCode{}, fmt.Errorf("device code: hash has %d bytes", len(hash))
	}
	d.Hash, d.APIID, d.UserID = [32]byte(hash), api.String, user.String
	if d.Scopes, err = decodeStrings(scopes); err != nil {
		return DeviceCode{}, fmt.Errorf("device code scopes: %w", err)
	}
	if d.AMR, err = decodeList(amr); err != nil {
		return DeviceCode{}, fmt.Errorf("device code amr: %w", err)
	}
	d.AuthTime, d.CreatedAt, d.ExpiresAt, d.PolledAt = fromMicros(authTime), fromMicros(created), fromMicros(expires), fromMicros(polled)
	d.Issued = Issued{FamilyID: family.String, AccessJTI: jti.String, AccessExpiresAt: fromMicros(accessExp)}
	return d, nil
}

// CreateDeviceCode stores a new pending request. It returns ErrConflict
// if its hash or user code is taken (the caller draws another user code),
// and ErrNotFound if the client or API does not exist.
func (db *DB) CreateDeviceCode(ctx context.Context, d DeviceCode) error {
	scopes, err := encodeJSON(emptyList(d.Scopes))
	if err != nil {
		return err
	}
	created, err := mustTime("device code created time", d.CreatedAt)
	if err != nil {
		return err
	}
	expires, err := mustTime("device code expiry", d.ExpiresAt)
	if err != nil {
		return err
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO oauth_device_codes (`+deviceCols+`)
VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, '[]', $7, $8, NULL, NULL, NULL, NULL)`,
			d.Hash[:], d.UserCode, d.ClientID, nullString(d.APIID), scopes, DevicePending, created, expires)
		if isForeignKeyViolation(err) {
			return fmt.Errorf("client %s or api %s: %w", d.ClientID, d.APIID, ErrNotFound)
		}
		return conflict(err)
	})
	if err != nil {
		return fmt.Errorf("create device code: %w", err)
	}
	return nil
}

// DeviceCodeByUserCode returns the request with the given normalized user
// code, or ErrNotFound.
func (db *DB) DeviceCodeByUserCode(ctx context.Context, userCode string) (DeviceCode, error) {
	d, err := scanDevice(db.r.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM oauth_device_codes WHERE user_code = $1`, userCode))
	if err != nil {
		return DeviceCode{}, fmt.Errorf("device code by user code: %w", err)
	}
	return d, nil
}

// PollDeviceCode records a poll of the request with the given hash at now
// and returns the request as it was before, so that the caller can judge
// the interval since the previous poll. It returns ErrNotFound.
func (db *DB) PollDeviceCode(ctx context.Context, hash [32]byte, now time.Time) (DeviceCode, error) {
	var d DeviceCode
	err := db.write(ctx, func(tx *sql.Tx) error {
		var err error
		if d, err = scanDevice(tx.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM oauth_device_codes WHERE hash = $1`, hash[:])); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE oauth_device_codes SET polled_at = $2 WHERE hash = $1`, hash[:], now.UnixMicro())
		return err
	})
	if err != nil {
		return DeviceCode{}, fmt.Errorf("poll device code: %w", err)
	}
	return d, nil
}

// DeviceDecision is a person's answer to a device authorization request:
// Status DeviceApproved, with who approved and how they signed in, or
// DeviceDenied.
type DeviceDecision struct {
	Status   string
	UserID   string
	AuthTime time.Time
	AMR      []string
}

// DecideDeviceCode records d on the pending, unexpired request with the
// given user code and returns the request as decided. It returns
// ErrNotFound if there is none or it expired, and ErrTokenUsed if it was
// already decided.
func (db *DB) DecideDeviceCode(ctx context.Context, userCode string, now time.Time, d DeviceDecision) (DeviceCode, error) {
	if d.Status != DeviceApproved && d.Status != DeviceDenied {
		return DeviceCode{}, fmt.Errorf("decide device code: bad status %q", d.Status)
	}
	amr, err := encodeJSON(emptyList(d.AMR))
	if err != nil {
		return DeviceCode{}, err
	}
	var out DeviceCode
	err = db.write(ctx, func(tx *sql.Tx) error {
		cur, err := scanDevice(tx.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM oauth_device_codes WHERE user_code = $1`, userCode))
		switch {
		case err != nil:
			return err
		case !now.Before(cur.ExpiresAt):
			return ErrNotFound
		}
		res, err := tx.ExecContext(ctx, `UPDATE oauth_device_codes SET status = $2, user_id = $3, auth_time = $4, amr = $5
WHERE user_code = $1 AND status = $6`, userCode, d.Status, nullString(d.UserID), micros(d.AuthTime), amr, DevicePending)
		if err != nil {
			if isForeignKeyViolation(err) {
				return fmt.Errorf("user %s: %w", d.UserID, ErrNotFound)
			}
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = ErrTokenUsed
			}
			return err
		}
		cur.Status, cur.UserID, cur.AuthTime, cur.AMR = d.Status, d.UserID, d.AuthTime, d.AMR
		out = cur
		return nil
	})
	if err != nil {
		return DeviceCode{}, fmt.Errorf("decide device code: %w", err)
	}
	return out, nil
}

// RedeemDeviceCode marks the approved request with the given hash used,
// records what it issued and stores the tokens of r, in one transaction.
// It returns ErrNotFound, or ErrTokenUsed if the request is not (or no
// longer) approved; then nothing is written.
func (db *DB) RedeemDeviceCode(ctx context.Context, hash [32]byte, r Redemption) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE oauth_device_codes SET status = $2, family_id = $3, access_jti = $4,
	access_expires_at = $5 WHERE hash = $1 AND status = $6`, hash[:], DeviceUsed,
			nullString(r.Issued.FamilyID), nullString(r.Issued.AccessJTI), micros(r.Issued.AccessExpiresAt), DeviceApproved)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			if _, err := scanDevice(tx.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM oauth_device_codes WHERE hash = $1`, hash[:])); err != nil {
				return err
			}
			return ErrTokenUsed
		}
		return insertRedemption(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("redeem device code: %w", err)
	}
	return nil
}
