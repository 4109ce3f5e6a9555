package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tokend/tokend/api"
)

// CreateUser creates a user. Without req.Password the answer carries a
// one-time set-password link, shown this once.
func (c *Client) CreateUser(ctx context.Context, req api.CreateUserRequest) (*api.CreatedUser, error) {
	return call[api.CreatedUser](ctx, c, http.MethodPost, "/v1/users", nil, req)
}

// ListUsersOptions filters and pages [Client.ListUsers]. Zero fields are
// not sent.
type ListUsersOptions struct {
	UsernamePrefix string // usernames starting with this, in any case
	Group          string // members of this group
	Enabled        *bool  // only enabled (true) or disabled (false) users
	Cursor         string // the NextCursor of the previous page
	Limit          int    // page size; zero means the server's default
}

func (o ListUsersOptions) query() url.Values {
	q := url.Values{}
	set(q, "username_prefix", o.UsernamePrefix)
	set(q, "group", o.Group)
	set(q, "cursor", o.Cursor)
	if o.Enabled != nil {
		q.Set("enabled", strconv.FormatBool(*o.Enabled))
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	return q
}

// ListUsers returns one page of users. NextCursor is empty on the last
// page.
func (c *Client) ListUsers(ctx context.Context, opts ListUsersOptions) (*api.UserList, error) {
	return call[api.UserList](ctx, c, http.MethodGet, "/v1/users", opts.query(), nil)
}

// GetUser returns the user with the given ID, or an *api.Problem with
// code api.ErrNotFound.
func (c *Client) GetUser(ctx context.Context, id string) (*api.User, error) {
	return userCall[api.User](ctx, c, http.MethodGet, id, "", nil)
}

// UpdateUser changes the fields of req that are set.
func (c *Client) UpdateUser(ctx context.Context, id string, req api.UpdateUserRequest) (*api.User, error) {
	return userCall[api.User](ctx, c, http.MethodPatch, id, "", req)
}

// DisableUser stops the user from signing in.
func (c *Client) DisableUser(ctx context.Context, id string) (*api.User, error) {
	return userCall[api.User](ctx, c, http.MethodPost, id, "/disable", nil)
}

// SetUserGroups replaces the user's groups; an empty list removes all.
func (c *Client) SetUserGroups(ctx context.Context, id string, groups []string) (*api.User, error) {
	if groups == nil {
		groups = []string{}
	}
	return userCall[api.User](ctx, c, http.MethodPut, id, "/groups", api.SetGroupsRequest{Groups: groups})
}

// IssuePasswordLink makes a new one-time set-password link for the user,
// voiding any earlier one. The token is shown this once.
func (c *Client) IssuePasswordLink(ctx context.Context, id string) (*api.PasswordLink, error) {
	return userCall[api.PasswordLink](ctx, c, http.MethodPost, id, "/password-link", nil)
}

// UserPasskeys lists the user's passkeys, oldest first.
func (c *Client) UserPasskeys(ctx context.Context, id string) (*api.PasskeyList, error) {
	return userCall[api.PasskeyList](ctx, c, http.MethodGet, id, "/passkeys", nil)
}

// DeleteUserPasskey removes one passkey of the user, for a lost
// authenticator.
func (c *Client) DeleteUserPasskey(ctx context.Context, id, passkeyID string) error {
	seg, err := segment("user", id)
	if err != nil {
		return err
	}
	pk, err := segment("passkey", passkeyID)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, "/v1/users/"+seg+"/passkeys/"+pk, nil, nil, nil)
}

// UserSessions lists the user's browser sessions that have not ended,
// newest first.
func (c *Client) UserSessions(ctx context.Context, id string) (*api.SessionList, error) {
	return userCall[api.SessionList](ctx, c, http.MethodGet, id, "/sessions", nil)
}

// EndUserSessions ends every browser session of the user.
func (c *Client) EndUserSessions(ctx context.Context, id string) error {
	seg, err := segment("user", id)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, "/v1/users/"+seg+"/sessions", nil, nil, nil)
}

// UserMFA reports the user's second factors: whether TOTP is on and how
// many recovery codes are left.
func (c *Client) UserMFA(ctx context.Context, id string) (*api.MFA, error) {
	return userCall[api.MFA](ctx, c, http.MethodGet, id, "/mfa", nil)
}

// ResetUserMFA removes every second factor of the user (TOTP, recovery
// codes and passkeys), for one who lost theirs, and returns what is left:
// none.
func (c *Client) ResetUserMFA(ctx context.Context, id string) (*api.MFA, error) {
	return userCall[api.MFA](ctx, c, http.MethodPost, id, "/reset-mfa", nil)
}

// DeleteUser deletes the user.
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	seg, err := segment("user", id)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, "/v1/users/"+seg, nil, nil, nil)
}

// SetPassword consumes a set-password link's token and sets the
// password. It needs no admin key: the token is the credential.
func (c *Client) SetPassword(ctx context.Context, token, password string) error {
	return c.do(ctx, http.MethodPost, "/v1/users/set-password", nil, api.SetPasswordRequest{Token: token, Password: password}, nil)
}

func userCall[T any](ctx context.Context, c *Client, method, id, suffix string, body any) (*T, error) {
	seg, err := segment("user", id)
	if err != nil {
		return nil, err
	}
	return call[T](ctx, c, method, "/v1/users/"+seg+suffix, nil, body)
}
