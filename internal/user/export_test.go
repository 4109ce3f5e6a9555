package user

// PasswordChecks is how many passwords s has checked with argon2id,
// for the external tests that show a refusal did a wrong password's
// work.
func PasswordChecks(s *Service) int64 { return s.hasher.checks.Load() }
