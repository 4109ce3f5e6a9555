package api

import "time"

// Passkey is one of a user's passkeys (WebAuthn credentials), as the
// account pages list them. It holds nothing secret: the private key
// never leaves the authenticator, and the public key is not shown.
type Passkey struct {
	ID string `json:"id"`
	// Name is what the user calls the passkey ("laptop", "phone").
	Name string `json:"name"`
	// AAGUID names the authenticator's model, as a UUID; all zeros when
	// the authenticator does not say.
	AAGUID string `json:"aaguid"`
	// Transports are how the browser reaches the authenticator
	// ("internal", "hybrid", "usb", "nfc", "ble").
	Transports []string `json:"transports"`
	// BackupEligible says the passkey may be synced to other devices;
	// BackedUp that it is.
	BackupEligible bool      `json:"backup_eligible"`
	BackedUp       bool      `json:"backed_up"`
	CreatedAt      time.Time `json:"created_at"`
	LastUsedAt     time.Time `json:"last_used_at,omitzero"`
}

// PasskeyList is the answer of GET /v1/users/{id}/passkeys: every passkey
// of the user, oldest first.
type PasskeyList struct {
	Passkeys []Passkey `json:"passkeys"`
}
