package api

// MFA is what second factors a user has set up (GET /v1/users/{id}/mfa,
// and the answer of POST /v1/users/{id}/reset-mfa): whether TOTP (an
// authenticator app) is on, how many single-use recovery codes are left,
// and how many passkeys the user has. It never holds a secret or a code.
type MFA struct {
	TOTP              bool `json:"totp"`
	RecoveryCodesLeft int  `json:"recovery_codes_left"`
	Passkeys          int  `json:"passkeys"`
}
