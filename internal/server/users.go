package server

import (
	"context"
	"net/http"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

func (s *Server) createUser(ctx context.Context, c call, req *api.CreateUserRequest) (api.CreatedUser, error) {
	return s.users.Create(ctx, c.by(), *req)
}

// listUsers answers GET /v1/users?username_prefix=&group=&enabled=&cursor=&limit=.
func (s *Server) listUsers(ctx context.Context, c call, _ *none) (api.UserList, error) {
	q := c.r.URL.Query()
	limit, err := pageLimit(c.r)
	if err != nil {
		return api.UserList{}, err
	}
	after, err := idCursor(c.r, store.UserIDs)
	if err != nil {
		return api.UserList{}, err
	}
	f := store.UserFilter{UsernamePrefix: q.Get("username_prefix"), Group: q.Get("group"), After: after, Limit: limit}
	switch q.Get("enabled") {
	case "":
	case "true", "false":
		on := q.Get("enabled") == "true"
		f.Enabled = &on
	default:
		return api.UserList{}, valid.Errorf("enabled", "must be true or false")
	}
	return s.users.List(ctx, f)
}

func (s *Server) getUser(ctx context.Context, c call, _ *none) (api.User, error) {
	return s.users.Get(ctx, c.r.PathValue("id"))
}

func (s *Server) updateUser(ctx context.Context, c call, req *api.UpdateUserRequest) (api.User, error) {
	return s.users.Update(ctx, c.by(), c.r.PathValue("id"), *req)
}

func (s *Server) disableUser(ctx context.Context, c call, _ *none) (api.User, error) {
	return s.users.Disable(ctx, c.by(), c.r.PathValue("id"))
}

func (s *Server) setUserGroups(ctx context.Context, c call, req *api.SetGroupsRequest) (api.User, error) {
	if req.Groups == nil {
		return api.User{}, valid.Errorf("groups", "is required (an empty list removes every group)")
	}
	return s.users.SetGroups(ctx, c.by(), c.r.PathValue("id"), req.Groups)
}

func (s *Server) deleteUser(ctx context.Context, c call, _ *none) (none, error) {
	return none{}, s.users.Delete(ctx, c.by(), c.r.PathValue("id"))
}

func (s *Server) issuePasswordLink(ctx context.Context, c call, _ *none) (api.PasswordLink, error) {
	return s.users.IssuePasswordLink(ctx, c.by(), c.r.PathValue("id"))
}

func (s *Server) listUserSessions(ctx context.Context, c call, _ *none) (api.SessionList, error) {
	return s.users.AdminSessions(ctx, c.r.PathValue("id"))
}

func (s *Server) endUserSessions(ctx context.Context, c call, _ *none) (none, error) {
	return none{}, s.users.AdminEndSessions(ctx, c.by(), c.r.PathValue("id"))
}

func (s *Server) getUserMFA(ctx context.Context, c call, _ *none) (api.MFA, error) {
	return s.users.MFA(ctx, c.r.PathValue("id"))
}

// resetUserMFA answers POST /v1/users/{id}/reset-mfa: every second factor
// of the user goes, for one who lost theirs.
func (s *Server) resetUserMFA(ctx context.Context, c call, _ *none) (api.MFA, error) {
	id := c.r.PathValue("id")
	if err := s.users.ResetMFA(ctx, c.by(), id); err != nil {
		return api.MFA{}, err
	}
	return s.users.MFA(ctx, id)
}

// setPassword answers POST /v1/users/set-password, which needs no key:
// the set-password link's token in the body is the credential. The audit
// log names the link as the actor.
func (s *Server) setPassword(ctx context.Context, c call, req *api.SetPasswordRequest) (none, error) {
	by := audit.Actor{ID: "set-password-link", IP: c.p.ip}
	_, err := s.users.SetPasswordWithLink(ctx, by, req.Token, req.Password)
	return none{}, err
}

// linkHolder runs h for a caller whose credential is in the body: the
// principal carries only the client address.
func (s *Server) linkHolder(h callerHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.serveCaller(w, r, principal{ip: s.clientIP(r)})
	})
}

// listUserPasskeys answers GET /v1/users/{id}/passkeys; 404 for an unknown
// user.
func (s *Server) listUserPasskeys(ctx context.Context, c call, _ *none) (api.PasskeyList, error) {
	id := c.r.PathValue("id")
	if _, err := s.users.Get(ctx, id); err != nil {
		return api.PasskeyList{}, err
	}
	ps, err := s.users.Passkeys(ctx, id)
	return api.PasskeyList{Passkeys: ps}, err
}

func (s *Server) deleteUserPasskey(ctx context.Context, c call, _ *none) (none, error) {
	return none{}, s.users.DeletePasskey(ctx, c.by(), c.r.PathValue("id"), c.r.PathValue("passkey_id"))
}
