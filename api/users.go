package api

import "time"

// User is a person who signs in to tokend (GET /v1/users/{id}). It never
// holds a password or its hash; HasPassword says whether one is set.
type User struct {
	ID          string    `json:"id"`
	Username    string    `json:"username"`
	Email       string    `json:"email"`
	DisplayName string    `json:"display_name"`
	Groups      []string  `json:"groups"`
	Admin       bool      `json:"admin"`
	Enabled     bool      `json:"enabled"`
	Source      string    `json:"source"`
	HasPassword bool      `json:"has_password"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// The sources of a user: made in tokend, or provisioned from a directory.
const (
	UserSourceLocal = "local"
	UserSourceLDAP  = "ldap"
)

// CreateUserRequest is the body of POST /v1/users. Without a Password
// the answer carries a one-time set-password link.
type CreateUserRequest struct {
	Username    string   `json:"username"`
	Email       string   `json:"email,omitempty"`
	DisplayName string   `json:"display_name,omitempty"`
	Groups      []string `json:"groups,omitempty"`
	Admin       bool     `json:"admin,omitempty"`
	Password    string   `json:"password,omitempty"`
}

// CreatedUser is the answer of POST /v1/users and of POST
// /v1/users/{id}/password-link (which leaves User empty): the user and,
// when the user has no password yet, the one-time set-password link,
// shown once.
type CreatedUser struct {
	User
	PasswordLink *PasswordLink `json:"password_link,omitempty"`
}

// PasswordLink is a one-time, short-lived set-password link. Token is
// shown once; it is consumed by POST /v1/users/set-password.
type PasswordLink struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// UpdateUserRequest is the body of PATCH /v1/users/{id}; absent fields
// are left as they are.
type UpdateUserRequest struct {
	Username    *string   `json:"username,omitempty"`
	Email       *string   `json:"email,omitempty"`
	DisplayName *string   `json:"display_name,omitempty"`
	Groups      *[]string `json:"groups,omitempty"`
	Admin       *bool     `json:"admin,omitempty"`
	Enabled     *bool     `json:"enabled,omitempty"`
}

// SetPasswordRequest is the body of POST /v1/users/set-password: the
// token of a set-password link and the new password.
type SetPasswordRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// UserList is a page of GET /v1/users. NextCursor is empty on the last
// page.
type UserList struct {
	Users      []User `json:"users"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// SetGroupsRequest is the body of PUT /v1/users/{id}/groups.
type SetGroupsRequest struct {
	Groups []string `json:"groups"`
}
