package api

import "time"

// Session is one browser session of a user (GET /v1/users/{id}/sessions
// and the account pages). It never carries the session's token.
type Session struct {
	ID string `json:"id"`
	// Pending is empty for a full session, else the step the user still
	// owes: "second_factor" or "enrol".
	Pending string `json:"pending,omitempty"`
	// AMR lists the RFC 8176 authentication methods used: "pwd", "otp",
	// "hwk" or "swk" (a passkey), "mfa" when two were used.
	AMR        []string  `json:"amr"`
	AuthTime   time.Time `json:"auth_time"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
}

// SessionList is the answer of GET /v1/users/{id}/sessions, newest
// first.
type SessionList struct {
	Sessions []Session `json:"sessions"`
}
