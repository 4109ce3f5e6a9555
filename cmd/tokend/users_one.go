package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

func userListOptions(prefix, group, cursor string, limit int) client.ListUsersOptions {
	return client.ListUsersOptions{UsernamePrefix: prefix, Group: group, Cursor: cursor, Limit: limit}
}

// oneUser parses the flags of a command that takes one user ID.
func oneUser(c *cmdIO, name, usage, help string, args []string, extra func(*flag.FlagSet)) (connFlags, *flag.FlagSet, string, error) {
	var conn connFlags
	fs := newFlagSet(c, "users "+name, usage, help)
	conn.register(fs)
	if extra != nil {
		extra(fs)
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return conn, fs, "", err
	}
	if err := wantArgs(fs, pos, 1, "one user ID"); err != nil {
		return conn, fs, "", err
	}
	return conn, fs, pos[0], nil
}

// userAction runs a command on one user that answers the user.
func userAction(ctx context.Context, c *cmdIO, args []string, name, help string,
	act func(*client.Client, context.Context, string) (*api.User, error)) error {
	conn, _, id, err := oneUser(c, name, "users "+name+" ID [--json]", help, args, nil)
	if err != nil {
		return err
	}
	cl, err := conn.client(c)
	if err != nil {
		return err
	}
	u, err := act(cl, ctx, id)
	if err != nil {
		return fmt.Errorf("%s user %s: %w", name, id, err)
	}
	if conn.json {
		return printJSON(c.stdout, u)
	}
	return printUser(c.stdout, u)
}

func usersShow(ctx context.Context, c *cmdIO, args []string) error {
	return userAction(ctx, c, args, "show", "Shows one user.", (*client.Client).GetUser)
}

func usersDisable(ctx context.Context, c *cmdIO, args []string) error {
	return userAction(ctx, c, args, "disable", "Stops a user from signing in and voids their set-password link.",
		(*client.Client).DisableUser)
}

func usersUpdate(ctx context.Context, c *cmdIO, args []string) error {
	var f userFlags
	conn, fs, id, err := oneUser(c, "update", "users update ID [flags]",
		"Changes the given fields of a user; others keep their value. --groups replaces every group.", args,
		func(fs *flag.FlagSet) {
			f.register(fs)
			fs.BoolVar(&f.enabled, "enabled", true, "whether the user may sign in (--enabled=false disables)")
		})
	if err != nil {
		return err
	}
	set := setFlags(fs)
	var req api.UpdateUserRequest
	for name, dst := range map[string]**string{"username": &req.Username, "email": &req.Email, "display-name": &req.DisplayName} {
		if set[name] {
			*dst = new(fs.Lookup(name).Value.String())
		}
	}
	if set["groups"] {
		g := []string(f.groups)
		if g == nil {
			g = []string{}
		}
		req.Groups = &g
	}
	if set["admin"] {
		req.Admin = &f.admin
	}
	if set["enabled"] {
		req.Enabled = &f.enabled
	}
	if req == (api.UpdateUserRequest{}) {
		return fmt.Errorf("%w: nothing to update; give at least one flag", errUsage)
	}
	cl, err := conn.client(c)
	if err != nil {
		return err
	}
	u, err := cl.UpdateUser(ctx, id, req)
	if err != nil {
		return fmt.Errorf("update user %s: %w", id, err)
	}
	if conn.json {
		return printJSON(c.stdout, u)
	}
	return printUser(c.stdout, u)
}

func usersDelete(ctx context.Context, c *cmdIO, args []string) error {
	conn, _, id, err := oneUser(c, "delete", "users delete ID", "Deletes a user.", args, nil)
	if err != nil {
		return err
	}
	cl, err := conn.client(c)
	if err != nil {
		return err
	}
	if err := cl.DeleteUser(ctx, id); err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	fmt.Fprintf(c.stdout, "deleted %s\n", id)
	return nil
}

func usersPasswordLink(ctx context.Context, c *cmdIO, args []string) error {
	conn, _, id, err := oneUser(c, "password-link", "users password-link ID [--json]",
		"Makes a new one-time set-password link for a user (a forgotten password); earlier links stop working.", args, nil)
	if err != nil {
		return err
	}
	cl, err := conn.client(c)
	if err != nil {
		return err
	}
	l, err := cl.IssuePasswordLink(ctx, id)
	if err != nil {
		return fmt.Errorf("password link for user %s: %w", id, err)
	}
	if conn.json {
		return printJSON(c.stdout, l)
	}
	printLink(c, conn, l)
	return nil
}

func printUser(w io.Writer, u *api.User) error {
	t := newTable(w)
	t.row("ID:", u.ID)
	t.row("Username:", u.Username)
	t.row("Email:", u.Email)
	t.row("Display name:", u.DisplayName)
	t.row("Groups:", strings.Join(u.Groups, ", "))
	t.row("Admin:", fmt.Sprint(u.Admin))
	t.row("Enabled:", fmt.Sprint(u.Enabled))
	t.row("Source:", u.Source)
	t.row("Password set:", fmt.Sprint(u.HasPassword))
	t.row("Created:", when(u.CreatedAt))
	return t.flush()
}
