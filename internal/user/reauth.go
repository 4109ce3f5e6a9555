package user

import (
	"context"
	"errors"

	"github.com/tokend/tokend/api"
)

// Reauthenticate checks that the person of a live session is at the
// keyboard before a change that weakens their account (turning TOTP off,
// new recovery codes): proof is a code from their authenticator app (six
// digits) or their current password, local or the directory's. A wrong
// password counts as a failed sign-in for the account's throttle, a
// wrong code against the code throttle, as at sign-in.
//
// Errors: ErrInvalidCredentials (a wrong password), ErrInvalidCode (a
// wrong, used or unknown code), *ThrottledError, *CodeThrottledError,
// ErrUnavailable (the directory did not answer).
func (s *Service) Reauthenticate(ctx context.Context, userID, proof string) error {
	if _, ok := normalTOTP(proof); ok {
		return s.CheckCode(ctx, userID, proof)
	}
	u, err := s.db.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	now := s.now()
	if err := s.throttle.check(ctx, u.Username, "", now); err != nil {
		return err
	}
	if u.Source == api.UserSourceLocal || s.directory == nil {
		_, err = s.CheckPassword(ctx, u.Username, proof)
	} else {
		_, err = s.directory.Authenticate(ctx, u.Username, proof)
	}
	if errors.Is(err, ErrInvalidCredentials) {
		return s.failed(ctx, u.Username, u.ID, ClientMeta{}, now)
	}
	return err
}
