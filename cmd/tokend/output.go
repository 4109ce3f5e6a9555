package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tokend/tokend/api"
)

// printJSON writes v as indented JSON, for scripts.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printAPIs(w io.Writer, apis []api.API) error {
	t := newTable(w)
	t.row("ID", "NAME", "AUDIENCE", "PREFIX", "SCOPES", "CREATED")
	for _, a := range apis {
		t.row(a.ID, a.Name, a.Audience, a.KeyPrefix, list(a.Scopes), when(a.CreatedAt))
	}
	return t.flush()
}

func printAPI(w io.Writer, a *api.API) error {
	t := newTable(w)
	t.row("ID:", a.ID)
	t.row("Name:", a.Name)
	t.row("Audience:", a.Audience)
	t.row("Key prefix:", a.KeyPrefix)
	t.row("Scopes:", list(a.Scopes))
	t.row("Max key TTL:", duration(a.Policy.MaxKeyTTL, "none"))
	t.row("Require IP allowlist:", fmt.Sprint(a.Policy.RequireIPAllowlist))
	t.row("Default rate limits:", rateLimits(a.Policy.DefaultRateLimits))
	t.row("Approve dynamic clients:", fmt.Sprint(a.Policy.ApproveDynamicClients))
	t.row("PAT approval scopes:", list(a.Policy.PATApprovalScopes))
	t.row("Created:", when(a.CreatedAt))
	t.row("Updated:", when(a.UpdatedAt))
	return t.flush()
}

func printKeys(w io.Writer, keys []api.Key, now time.Time) error {
	t := newTable(w)
	t.row("ID", "API", "SUBJECT", "NAME", "KEY", "STATUS", "EXPIRES", "LAST USED")
	for _, k := range keys {
		t.row(k.ID, k.APIID, k.Subject, dash(k.Name), display(&k), status(&k, now),
			whenPtr(k.ExpiresAt, "never"), whenPtr(k.LastUsedAt, "never"))
	}
	return t.flush()
}

func printKey(w io.Writer, k *api.Key, now time.Time) error {
	t := newTable(w)
	t.row("ID:", k.ID)
	t.row("API:", k.APIID)
	t.row("Subject:", k.Subject)
	t.row("Name:", dash(k.Name))
	t.row("Key:", display(k))
	t.row("Status:", status(k, now))
	t.row("Scopes:", list(k.Scopes))
	t.row("Expires:", whenPtr(k.ExpiresAt, "never"))
	t.row("Allowed CIDRs:", list(k.AllowedCIDRs))
	t.row("Rate limits:", rateLimits(k.RateLimits))
	t.row("Credits:", credits(k.Credits))
	t.row("Metadata:", dash(string(k.Metadata)))
	t.row("Created:", when(k.CreatedAt))
	t.row("Updated:", when(k.UpdatedAt))
	t.row("Revoked:", whenPtr(k.RevokedAt, "-"))
	t.row("Last used:", whenPtr(k.LastUsedAt, "never"))
	t.row("Usage count:", fmt.Sprint(k.UsageCount))
	return t.flush()
}

// printCreatedKey prints a new or rotated key and its secret, once.
func printCreatedKey(w io.Writer, ck *api.CreatedKey, now time.Time) error {
	if err := printKey(w, &ck.Key, now); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nSecret: %s\n\n"+
		"This secret is shown only once and tokend keeps only a hash of it.\n"+
		"Store it now; if it is lost, rotate the key.\n", ck.Secret)
	return err
}

func printVerify(w io.Writer, r *api.VerifyResponse) error {
	t := newTable(w)
	t.row("Valid:", fmt.Sprint(r.Valid))
	t.row("Code:", string(r.Code))
	if tok := r.Token; tok != nil {
		t.row("Key:", dash(tok.ID))
		t.row("API:", dash(tok.APIID))
		t.row("Subject:", dash(tok.Subject))
		t.row("Scopes:", list(tok.Scopes))
		t.row("Expires:", whenPtr(tok.ExpiresAt, "never"))
	}
	for _, rl := range r.RateLimits {
		t.row("Rate limit "+rl.Name+":", fmt.Sprintf("%d of %d left, resets %s", rl.Remaining, rl.Limit, when(rl.Reset)))
	}
	if r.Credits != nil {
		t.row("Credits left:", fmt.Sprint(r.Credits.Remaining))
	}
	return t.flush()
}

// status summarises a key's state, worst first.
func status(k *api.Key, now time.Time) string {
	switch {
	case k.RevokedAt != nil:
		return "revoked"
	case k.ExpiresAt != nil && !k.ExpiresAt.After(now):
		return "expired"
	case !k.Enabled:
		return "disabled"
	}
	return "active"
}

// display shows the non-secret fragments that identify a key to people,
// as the docs write them: bill_LSiR…nlSf.
func display(k *api.Key) string {
	if k.Start == "" && k.End == "" {
		return "-"
	}
	if k.Prefix != "" && !strings.HasPrefix(k.Start, k.Prefix+"_") {
		return k.Prefix + "_" + k.Start + "…" + k.End
	}
	return k.Start + "…" + k.End
}

func credits(c *api.Credits) string {
	if c == nil {
		return "unlimited"
	}
	s := fmt.Sprint(c.Remaining)
	if c.Refill != nil {
		s += fmt.Sprintf(" (refill to %d every %s)", c.Refill.Amount, c.Refill.Interval.Std())
	}
	return s
}

func rateLimits(rls []api.RateLimit) string {
	if len(rls) == 0 {
		return "-"
	}
	s := make([]string, len(rls))
	for i, rl := range rls {
		s[i] = formatRateLimit(rl)
	}
	return strings.Join(s, ", ")
}

// formatRateLimit is the inverse of parseRateLimit.
func formatRateLimit(rl api.RateLimit) string {
	return fmt.Sprintf("%s:%d:%s", rl.Name, rl.Limit, rl.Window.Std())
}

func duration(d api.Duration, zero string) string {
	if d == 0 {
		return zero
	}
	return d.Std().String()
}

func list(s []string) string { return dash(strings.Join(s, ",")) }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// when formats a time in UTC, to the second.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func whenPtr(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return when(*t)
}
