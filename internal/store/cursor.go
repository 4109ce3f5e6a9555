package store

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/tokend/tokend/internal/ids"
)

// The record id prefixes a list's cursor may name (see package ids).
var (
	KeyIDs     = []string{"key", "pat"}
	UserIDs    = []string{"usr"}
	WebhookIDs = []string{"whk"}
)

// Every list refuses a cursor it could not have made with ErrBadCursor,
// which the API answers 400 invalid-field naming cursor and the console
// as a bad page address, rather than a silent empty page: each part of a
// cursor is checked against the shape its list writes (an id of package
// ids, a number as strconv.FormatInt writes it), never just parsed.

// CheckIDCursor is the one check of the cursors that are the id of the
// last record a page showed (keys, users, webhooks, clients): "" (the
// first page) or an id of one of prefixes, of the shape package ids makes.
// The lists of composite cursors (ApprovalCursor, GrantCursor, a
// time-ordered KeyCursor) check theirs as they read them.
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

// CheckApprovalCursor checks a cursor of ApprovalCursor: "" or a time
// and the id of a personal access token or a client.
func CheckApprovalCursor(c string) error {
	if c == "" {
		return nil
	}
	_, id, err := splitCursor(c)
	if err != nil || CheckIDCursor(id, KeyIDs) == nil {
		return err
	}
	return CheckClientCursor(id)
}

// CheckGrantCursor checks f.After, a cursor of GrantCursor for f: a
// user id and a client id, after a time of last use for a list by use.
func CheckGrantCursor(f GrantFilter) error {
	if f.After == "" {
		return nil
	}
	c, err := parseGrantCursor(f.After, !f.UnusedSince.IsZero())
	if err != nil || CheckIDCursor(c.user, UserIDs) != nil {
		return ErrBadCursor
	}
	return CheckClientCursor(c.client)
}

// CheckClientCursor checks a cursor of the OAuth client list: a client
// id of tokend's own, or the https URL of a client ID metadata document.
func CheckClientCursor(c string) error {
	if u, err := url.Parse(c); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		return nil
	}
	return CheckIDCursor(c, []string{"cli"})
}

// SeqCursor reads a cursor that is a row's sequence number (an audit
// event's id, a webhook delivery's): a number of at least 1 as
// strconv.FormatInt writes it, so no sign, no leading zero, no space.
func SeqCursor(c string) (int64, error) {
	n, ok := decimal(c)
	if !ok || n < 1 {
		return 0, ErrBadCursor
	}
	return n, nil
}

// splitCursor reads a time-ordered cursor, "<microseconds>.<id>", as
// KeyCursor and ApprovalCursor write it: the number as strconv.FormatInt
// writes it, then a non-empty id (which the lists' Check functions check
// against the shape of their ids).
func splitCursor(c string) (int64, string, error) {
	at, id, cut := strings.Cut(c, ".")
	n, ok := decimal(at)
	if !cut || !ok || id == "" {
		return 0, "", ErrBadCursor
	}
	return n, id, nil
}

// decimal parses s, a number in the one form strconv.FormatInt writes.
func decimal(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && strconv.FormatInt(n, 10) == s
}
