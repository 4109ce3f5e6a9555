package user

import (
	"context"
	"fmt"
	"slices"

	"github.com/tokend/tokend/internal/store"
)

// Factors are the second factors a user has set up.
type Factors struct {
	// TOTP: an authenticator app is confirmed.
	TOTP bool
	// Passkeys is the number of registered passkeys.
	Passkeys int
}

// Any reports whether the user has any second factor.
func (f Factors) Any() bool { return f.TOTP || f.Passkeys > 0 }

// secondFactors returns the second factors of the user with the given id:
// a confirmed TOTP (a pending enrolment is none) and the passkeys, in one
// read.
func (s *Service) secondFactors(ctx context.Context, userID string) (Factors, error) {
	m, err := s.db.MFAOf(ctx, userID)
	if err != nil {
		return Factors{}, err
	}
	return Factors{TOTP: m.TOTP, Passkeys: m.Passkeys}, nil
}

// MFAPolicy says who must give a second factor after their password.
type MFAPolicy string

// The second-factor policies (--mfa-required).
const (
	// MFAAdmins requires a second factor of users with the tokend:admin
	// role (the default).
	MFAAdmins MFAPolicy = "admins"
	// MFAEveryone requires one of every user.
	MFAEveryone MFAPolicy = "everyone"
	// MFAOff requires none; a user who has one set up is still asked
	// for it.
	MFAOff MFAPolicy = "off"
)

// ParseMFAPolicy reads a policy name.
func ParseMFAPolicy(s string) (MFAPolicy, error) {
	switch p := MFAPolicy(s); p {
	case MFAAdmins, MFAEveryone, MFAOff:
		return p, nil
	}
	return "", fmt.Errorf("mfa policy %q: want admins, everyone or off", s)
}

// requires reports whether the policy demands a second factor of u.
func (p MFAPolicy) requires(u store.User) bool {
	return p == MFAEveryone || (p == MFAAdmins || p == "") && u.Admin
}

// strongAMR are the methods that already are two factors in one: a
// passkey proves possession of the device and, with user verification,
// something the user knows or is.
var strongAMR = []string{"hwk", "swk", "mfa"}

// pendingFor decides the Pending of a new session of u, who
// authenticated with amr: none after a passkey; a second factor when the
// user has one (whatever the policy: a factor set up is always asked
// for); enrolment when the policy demands one the user lacks.
func (s *Service) pendingFor(ctx context.Context, u store.User, amr []string) (string, error) {
	for _, m := range amr {
		if slices.Contains(strongAMR, m) {
			return "", nil
		}
	}
	f, err := s.secondFactors(ctx, u.ID)
	if err != nil {
		return "", err
	}
	switch {
	case f.Any():
		return PendingSecondFactor, nil
	case s.mfa.requires(u):
		return PendingEnrol, nil
	}
	return "", nil
}
