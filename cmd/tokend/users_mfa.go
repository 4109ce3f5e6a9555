package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

func usersResetMFA(ctx context.Context, c *cmdIO, args []string) error {
	conn, _, who, err := oneUser(c, "reset-mfa", "users reset-mfa ID|USERNAME [--json]",
		"Removes every second factor of a user who lost theirs (TOTP, recovery codes and passkeys) and ends their sessions; they sign in with their password and enrol again.",
		args, nil)
	if err != nil {
		return err
	}
	cl, err := conn.client(c)
	if err != nil {
		return err
	}
	id, err := resolveUser(ctx, cl, who)
	if err != nil {
		return fmt.Errorf("reset-mfa %s: %w", who, err)
	}
	m, err := cl.ResetUserMFA(ctx, id)
	if err != nil {
		return fmt.Errorf("reset-mfa %s: %w", who, err)
	}
	if conn.json {
		return printJSON(c.stdout, m)
	}
	fmt.Fprintf(c.stdout, "reset the second factors of %s: TOTP off, no recovery codes, no passkeys, no sessions\n", id)
	return nil
}

// resolveUser returns the id of the user named by who: a user id, or
// else a username in any case. A user named neither way is a 404
// problem, so the command exits 3 as for an unknown id.
func resolveUser(ctx context.Context, cl *client.Client, who string) (string, error) {
	if strings.HasPrefix(who, "usr_") {
		u, err := cl.GetUser(ctx, who)
		if err == nil {
			return u.ID, nil
		}
		if p, ok := errors.AsType[*api.Problem](err); !ok || p.Code() != api.ErrNotFound {
			return "", err
		}
	}
	l, err := cl.ListUsers(ctx, client.ListUsersOptions{UsernamePrefix: who, Limit: 100})
	if err != nil {
		return "", err
	}
	for _, u := range l.Users {
		if strings.EqualFold(u.Username, who) {
			return u.ID, nil
		}
	}
	return "", &api.Problem{Status: 404, Type: api.ProblemTypeBase + api.ErrNotFound,
		Detail: fmt.Sprintf("no user has the id or username %q", who)}
}
