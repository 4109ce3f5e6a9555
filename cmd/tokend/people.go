package main

import (
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/user"
)

// peopleConfig is the sessions and sign-in settings of "tokend serve".
type peopleConfig struct {
	sessionIdle, sessionMax time.Duration
	mfaRequired             string
	directoryCheck          time.Duration
}

func (c *peopleConfig) register(fs *flag.FlagSet) {
	dur(fs, &c.sessionIdle, "session-idle", user.DefaultSessionIdle, "a browser session unused this long ends")
	dur(fs, &c.sessionMax, "session-max", user.DefaultSessionMax, "every browser session ends this long after sign-in")
	str(fs, &c.mfaRequired, "mfa-required", string(user.MFAAdmins), "who must give a second factor at sign-in: admins, everyone or off")
	dur(fs, &c.directoryCheck, "ldap-check-interval", user.DefaultDirectoryCheck, "how often the directory is asked about the people tokend got from it, disabling here those disabled or removed there (and enabling them again when the directory does)")
}

// check validates the flags before anything starts.
func (c *peopleConfig) check() error {
	if _, err := user.ParseMFAPolicy(c.mfaRequired); err != nil {
		return fmt.Errorf("%w: --mfa-required is admins, everyone or off, not %q", errUsage, c.mfaRequired)
	}
	if c.sessionIdle <= 0 || c.sessionMax <= 0 || c.directoryCheck <= 0 {
		return fmt.Errorf("%w: --session-idle, --session-max and --ldap-check-interval must be positive", errUsage)
	}
	if c.sessionIdle > c.sessionMax {
		return fmt.Errorf("%w: --session-idle (%v) is longer than --session-max (%v)", errUsage, c.sessionIdle, c.sessionMax)
	}
	return nil
}

// newUsers builds the people service: sessions, sign-in (with the
// directory, if any) and its throttle, shared through Redis when the
// node has it.
func newUsers(cfg serveConfig, db *store.DB, kek []byte, dir user.Directory, failures user.FailureCounter, log *slog.Logger, reg prometheus.Registerer) *user.Service {
	mfa, _ := user.ParseMFAPolicy(cfg.people.mfaRequired) // checked by check
	return user.New(user.Config{DB: db, PublicURL: cfg.signing.issuerURL(cfg), SessionIdle: cfg.people.sessionIdle, SessionMax: cfg.people.sessionMax, MFA: mfa,
		Directory: dir, DirectoryCheck: cfg.people.directoryCheck, Failures: failures, Logger: log, Registerer: reg, KEK: kek})
}
