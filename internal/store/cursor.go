package store

import (
	"net/url"

	"github.com/tokend/tokend/internal/ids"
)

// The record id prefixes a list's cursor may name (see package ids).
var (
	KeyIDs     = []string{"key", "pat"}
	UserIDs    = []string{"usr"}
	WebhookIDs = []string{"whk"}
)

// CheckIDCursor is the one check of the cursors that are the id of the
// last record a page showed (keys, users, webhooks, clients): "" (the
// first page) or an id of one of prefixes, of the shape package ids makes.
// Anything else is ErrBadCursor, which the API answers 400 invalid-field
// naming cursor and the console as a bad page address, rather than a
// silent empty page. The lists of composite cursors (ApprovalCursor,
// GrantCursor, a time-ordered KeyCursor) check theirs as they read them.
func CheckIDCursor(c string, prefixes []string) error {
	if c == "" {
		return nil
	}
	for _, p := range prefixes {
		if ids.Valid(p, c) {
			return nil
		}
	}
	return ErrBadCursor
}

// CheckKeyCursor checks f.After, a cursor of KeyCursor for f.
func CheckKeyCursor(f KeyFilter) error {
	if f.After == "" {
		return nil
	}
	if timeOrder(f) == "" {
		return CheckIDCursor(f.After, KeyIDs)
	}
	_, id, err := splitCursor(f.After)
	if err != nil {
		return err
	}
	return CheckIDCursor(id, KeyIDs)
}

// CheckClientCursor checks a cursor of the OAuth client list: a client
// id of tokend's own, or the https URL of a client ID metadata document.
func CheckClientCursor(c string) error {
	if u, err := url.Parse(c); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		return nil
	}
	return CheckIDCursor(c, []string{"cli"})
}
