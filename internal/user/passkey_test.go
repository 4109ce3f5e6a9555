package user

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

const (
	testPublicURL = "https://login.example.test/tokend"
	testOrigin    = "https://login.example.test"
)

// newPasskeyEnv is newEnv with passkeys bound to testPublicURL.
func newPasskeyEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.svc = New(Config{DB: e.db, Now: func() time.Time { return e.now }, Params: testParams, PublicURL: testPublicURL})
	if err := e.svc.PasskeysAvailable(); err != nil {
		t.Fatalf("PasskeysAvailable: %v", err)
	}
	return e
}

// register registers a passkey of a for userID, named name.
func (e *env) register(t *testing.T, a *softAuthenticator, userID, name string) api.Passkey {
	t.Helper()
	opts, state, err := e.svc.BeginPasskeyRegistration(t.Context(), userID)
	if err != nil {
		t.Fatalf("BeginPasskeyRegistration: %v", err)
	}
	p, err := e.svc.FinishPasskeyRegistration(t.Context(), userID, state, name, a.create(opts))
	if err != nil {
		t.Fatalf("FinishPasskeyRegistration: %v", err)
	}
	return p
}

// beginLogin begins a sign-in for userID ("" = discoverable).
func (e *env) beginLogin(t *testing.T, userID string) ([]byte, string) {
	t.Helper()
	opts, state, err := e.svc.BeginPasskeyLogin(t.Context(), userID)
	if err != nil {
		t.Fatalf("BeginPasskeyLogin(%q): %v", userID, err)
	}
	return opts, state
}

func TestPasskeyRegistration(t *testing.T) {
	e := newPasskeyEnv(t)
	ctx := t.Context()
	alice := e.create(t, api.CreateUserRequest{Username: "alice", DisplayName: "Alice A", Password: goodPassword})
	opts, state, err := e.svc.BeginPasskeyRegistration(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		PublicKey struct {
			RP   struct{ ID, Name string } `json:"rp"`
			User struct {
				ID          string `json:"id"`
				Name        string `json:"name"`
				DisplayName string `json:"displayName"`
			} `json:"user"`
			Attestation            string `json:"attestation"`
			AuthenticatorSelection struct {
				ResidentKey string `json:"residentKey"`
			} `json:"authenticatorSelection"`
		} `json:"publicKey"`
	}
	mustUnmarshal(t, opts, &o)
	handle, _ := b64u.DecodeString(o.PublicKey.User.ID)
	if o.PublicKey.RP.ID != "login.example.test" || o.PublicKey.User.Name != "alice" ||
		o.PublicKey.User.DisplayName != "Alice A" || o.PublicKey.Attestation != "none" ||
		o.PublicKey.AuthenticatorSelection.ResidentKey != "required" {
		t.Errorf("creation options = %s; want rp login.example.test, user alice, attestation none, a resident key", opts)
	}
	if len(handle) != 32 || bytes.Contains(opts, []byte(alice.ID)) {
		t.Errorf("user handle %x (%d bytes); want 32 random bytes, never the user id %s", handle, len(handle), alice.ID)
	}
	a := newSoftAuthenticator(t, testOrigin)
	p, err := e.svc.FinishPasskeyRegistration(ctx, alice.ID, state, "laptop", a.create(opts))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "laptop" || !p.BackupEligible || strings.Join(p.Transports, ",") != "internal,hybrid" ||
		p.AAGUID != "00000000-0000-0000-0000-000000000000" || !p.CreatedAt.Equal(e.now) {
		t.Errorf("registered %+v; want laptop, backup eligible, internal+hybrid, zero AAGUID, created now", p)
	}
	_, err = e.svc.FinishPasskeyRegistration(ctx, alice.ID, state, "again", a.create(opts))
	checkRefused(t, "a registration state used twice", err)

	// A second passkey: the first is excluded, the handle is the same.
	e.now = e.now.Add(time.Second)
	opts2, state2, err := e.svc.BeginPasskeyRegistration(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	var o2 creationOptions
	mustUnmarshal(t, opts2, &o2)
	if o2.PublicKey.User.ID != o.PublicKey.User.ID {
		t.Errorf("second registration's user handle %s, want the first %s: the handle is stable", o2.PublicKey.User.ID, o.PublicKey.User.ID)
	}
	if len(o2.PublicKey.ExcludeCredentials) != 1 || o2.PublicKey.ExcludeCredentials[0].ID != b64u.EncodeToString(a.creds[0].id) {
		t.Errorf("excludeCredentials = %+v, want the first passkey", o2.PublicKey.ExcludeCredentials)
	}
	phone := newSoftAuthenticator(t, testOrigin)
	p2, err := e.svc.FinishPasskeyRegistration(ctx, alice.ID, state2, "", phone.create(opts2))
	if err != nil || p2.Name != "Passkey" {
		t.Fatalf("second passkey = %+v, %v; want one named Passkey", p2, err)
	}
	if _, err := e.svc.RenamePasskey(ctx, audit.Actor{ID: alice.ID}, alice.ID, p2.ID, "phone"); err != nil {
		t.Fatal(err)
	}
	list, err := e.svc.Passkeys(ctx, alice.ID)
	if err != nil || len(list) != 2 || list[0].Name != "laptop" || list[1].Name != "phone" {
		t.Fatalf("Passkeys = %+v, %v; want laptop and phone", list, err)
	}
	bob := e.create(t, api.CreateUserRequest{Username: "bob", Password: goodPassword})
	if _, err := e.svc.RenamePasskey(ctx, audit.Actor{ID: bob.ID}, bob.ID, p.ID, "mine"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bob renaming alice's passkey: %v, want ErrNotFound", err)
	}
	if err := e.svc.DeletePasskey(ctx, audit.Actor{ID: bob.ID}, bob.ID, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bob deleting alice's passkey: %v, want ErrNotFound", err)
	}
	var bad *valid.Error
	if _, err := e.svc.RenamePasskey(ctx, audit.Actor{ID: alice.ID}, alice.ID, p.ID, "bad\x1bname"); !errors.As(err, &bad) {
		t.Errorf("a name with an escape: %v, want a *valid.Error", err)
	}
	if err := e.svc.DeletePasskey(ctx, audit.Actor{ID: alice.ID}, alice.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := e.svc.Passkeys(ctx, alice.ID); len(list) != 1 || list[0].ID != p2.ID {
		t.Errorf("after delete: %+v, want only the phone", list)
	}
	checkEvents(t, e, "passkey.create "+p.ID, "passkey.create "+p2.ID, "passkey.rename "+p2.ID, "passkey.delete "+p.ID)
}

func TestPasskeySecondFactor(t *testing.T) {
	e := newPasskeyEnv(t)
	ctx := t.Context()
	alice := e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	a := newSoftAuthenticator(t, testOrigin)
	p := e.register(t, a, alice.ID, "laptop")
	opts, state := e.beginLogin(t, alice.ID)
	var o requestOptions
	mustUnmarshal(t, opts, &o)
	if len(o.PublicKey.AllowCredentials) != 1 || o.PublicKey.RPID != "login.example.test" {
		t.Errorf("request options = %s; want alice's one credential and rpId login.example.test", opts)
	}
	e.now = e.now.Add(time.Minute)
	u, err := e.svc.FinishPasskeyLogin(ctx, state, a.get(opts, nil))
	if err != nil || u.ID != alice.ID {
		t.Fatalf("FinishPasskeyLogin = %s, %v; want alice", u.ID, err)
	}
	list, _ := e.svc.Passkeys(ctx, alice.ID)
	if len(list) != 1 || !list[0].LastUsedAt.Equal(e.now) {
		t.Errorf("after sign-in: %+v; want %s last used now", list, p.ID)
	}
	carol := e.create(t, api.CreateUserRequest{Username: "carol", Password: goodPassword})
	if _, _, err := e.svc.BeginPasskeyLogin(ctx, carol.ID); !errors.Is(err, ErrNoPasskeys) {
		t.Errorf("BeginPasskeyLogin for a user without passkeys: %v, want ErrNoPasskeys", err)
	}
}

func TestPasskeyPasswordless(t *testing.T) {
	e := newPasskeyEnv(t)
	ctx := t.Context()
	alice := e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	bob := e.create(t, api.CreateUserRequest{Username: "bob", Password: goodPassword})
	a, b := newSoftAuthenticator(t, testOrigin), newSoftAuthenticator(t, testOrigin)
	a.noCounter = true // a synced passkey: no counter, 0 every time
	e.register(t, a, alice.ID, "synced")
	e.register(t, b, bob.ID, "key")
	for range 2 {
		opts, state := e.beginLogin(t, "")
		var o requestOptions
		mustUnmarshal(t, opts, &o)
		if len(o.PublicKey.AllowCredentials) != 0 || o.PublicKey.UserVerification != "required" {
			t.Errorf("discoverable options = %s; want no allowCredentials and user verification required", opts)
		}
		if u, err := e.svc.FinishPasskeyLogin(ctx, state, a.get(opts, nil)); err != nil || u.ID != alice.ID {
			t.Fatalf("passwordless sign-in = %s, %v; want alice", u.ID, err)
		}
	}
	opts, state := e.beginLogin(t, "")
	if u, err := e.svc.FinishPasskeyLogin(ctx, state, b.get(opts, nil)); err != nil || u.ID != bob.ID {
		t.Fatalf("passwordless sign-in = %s, %v; want bob", u.ID, err)
	}
	// Alice's credential presented under bob's user handle.
	opts, state = e.beginLogin(t, "")
	a.creds[0].handle = b.creds[0].handle
	_, err := e.svc.FinishPasskeyLogin(ctx, state, a.get(opts, nil))
	checkRefused(t, "alice's credential under bob's handle", err)
}

func TestPasskeyReplay(t *testing.T) {
	e := newPasskeyEnv(t)
	ctx := t.Context()
	alice := e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	a := newSoftAuthenticator(t, testOrigin)
	e.register(t, a, alice.ID, "laptop")
	opts, state := e.beginLogin(t, alice.ID)
	body := a.get(opts, nil)
	if _, err := e.svc.FinishPasskeyLogin(ctx, state, body); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.FinishPasskeyLogin(ctx, state, body)
	checkRefused(t, "the same assertion and state again", err)
	_, state2 := e.beginLogin(t, alice.ID)
	_, err = e.svc.FinishPasskeyLogin(ctx, state2, body)
	checkRefused(t, "the same assertion under a new state", err)

	// A cloned authenticator: a valid signature over the new challenge,
	// but a counter that did not increase.
	opts, state = e.beginLogin(t, alice.ID)
	var o requestOptions
	mustUnmarshal(t, opts, &o)
	_, err = e.svc.FinishPasskeyLogin(ctx, state, a.assert(a.creds[0], o.PublicKey.Challenge, a.creds[0].count))
	checkRefused(t, "a counter that did not increase", err)
	if !errors.Is(err, store.ErrStaleSignCount) {
		t.Errorf("clone: %v, want it to wrap ErrStaleSignCount for the log", err)
	}
	// The genuine authenticator still works.
	opts, state = e.beginLogin(t, alice.ID)
	if _, err := e.svc.FinishPasskeyLogin(ctx, state, a.get(opts, nil)); err != nil {
		t.Errorf("the genuine authenticator after a clone was refused: %v", err)
	}
	// An expired ceremony.
	opts, state = e.beginLogin(t, alice.ID)
	e.now = e.now.Add(PasskeyCeremonyTTL)
	_, err = e.svc.FinishPasskeyLogin(ctx, state, a.get(opts, nil))
	checkRefused(t, "an expired ceremony", err)
	_, err = e.svc.FinishPasskeyLogin(ctx, "forged-state", a.get(opts, nil))
	checkRefused(t, "a forged state", err)
}

func TestPasskeyOfAnotherUser(t *testing.T) {
	e := newPasskeyEnv(t)
	ctx := t.Context()
	alice := e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	bob := e.create(t, api.CreateUserRequest{Username: "bob", Password: goodPassword})
	a, b := newSoftAuthenticator(t, testOrigin), newSoftAuthenticator(t, testOrigin)
	e.register(t, a, alice.ID, "alice's")
	e.register(t, b, bob.ID, "bob's")
	// Bob, signed in with his password, answers the second factor with
	// alice's passkey.
	opts, state := e.beginLogin(t, bob.ID)
	var o requestOptions
	mustUnmarshal(t, opts, &o)
	_, err := e.svc.FinishPasskeyLogin(ctx, state, a.assert(a.creds[0], o.PublicKey.Challenge, 1))
	checkRefused(t, "alice's passkey as bob's second factor", err)
	// A registration state of alice's finished for bob.
	ropts, rstate, err := e.svc.BeginPasskeyRegistration(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.FinishPasskeyRegistration(ctx, bob.ID, rstate, "x", b.create(ropts))
	checkRefused(t, "alice's registration finished for bob", err)
	if list, _ := e.svc.Passkeys(ctx, bob.ID); len(list) != 1 {
		t.Errorf("bob has %d passkeys, want 1: nothing changed", len(list))
	}
}

// TestPasskeyBadAnswers: each broken answer is refused, and the broken
// ones that are not even WebAuthn leave the ceremony usable.
func TestPasskeyBadAnswers(t *testing.T) {
	e := newPasskeyEnv(t)
	ctx := t.Context()
	alice := e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	good := newSoftAuthenticator(t, testOrigin)
	e.register(t, good, alice.ID, "laptop")
	tests := []struct {
		name   string
		answer func(opts []byte) []byte
	}{
		{"wrong origin", func(opts []byte) []byte {
			evil := *good
			evil.origin = "https://login.example.test.evil.example"
			return evil.get(opts, nil)
		}},
		{"wrong RP ID hash", func(opts []byte) []byte {
			evil := *good
			evil.rpID = "evil.example"
			return evil.get(opts, nil)
		}},
		{"bad signature", func(opts []byte) []byte {
			return withField(t, good.get(opts, nil), "signature", func(sig []byte) []byte {
				sig[len(sig)-3] ^= 0xff
				return sig
			})
		}},
		{"tampered authenticator data", func(opts []byte) []byte {
			return withField(t, good.get(opts, nil), "authenticatorData", func(d []byte) []byte {
				d[len(d)-1]++ // the counter, after signing
				return d
			})
		}},
		{"unknown credential", func(opts []byte) []byte {
			other := newSoftAuthenticator(t, testOrigin)
			ropts, _, _ := e.svc.BeginPasskeyRegistration(ctx, alice.ID)
			other.create(ropts) // made by the authenticator, never finished
			var o requestOptions
			mustUnmarshal(t, opts, &o)
			return other.assert(other.creds[0], o.PublicKey.Challenge, 1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, state := e.beginLogin(t, alice.ID)
			_, err := e.svc.FinishPasskeyLogin(ctx, state, tt.answer(opts))
			checkRefused(t, tt.name, err)
		})
	}
	for _, tt := range []struct {
		name string
		body []byte
	}{
		{"malformed JSON", []byte(`{"id": "abc", "response": {`)},
		{"not a credential", []byte(`{"id": 5}`)},
		{"empty", nil},
		{"oversized", append([]byte(`{"id":"`), bytes.Repeat([]byte("A"), MaxPasskeyResponse)...)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts, state := e.beginLogin(t, alice.ID)
			var bad *valid.Error
			if _, err := e.svc.FinishPasskeyLogin(ctx, state, tt.body); !errors.As(err, &bad) {
				t.Errorf("FinishPasskeyLogin(%s) = %v, want a *valid.Error", tt.name, err)
			}
			if _, err := e.svc.FinishPasskeyRegistration(ctx, alice.ID, state, "x", tt.body); !errors.As(err, &bad) {
				t.Errorf("FinishPasskeyRegistration(%s) = %v, want a *valid.Error", tt.name, err)
			}
			if u, err := e.svc.FinishPasskeyLogin(ctx, state, good.get(opts, nil)); err != nil || u.ID != alice.ID {
				t.Errorf("the good answer after %s = %s, %v; want alice: a bad body must not use up the ceremony", tt.name, u.ID, err)
			}
		})
	}
	if list, _ := e.svc.Passkeys(ctx, alice.ID); len(list) != 1 {
		t.Errorf("alice has %d passkeys, want 1", len(list))
	}
}

func TestPasskeyRegistrationWrongOrigin(t *testing.T) {
	e := newPasskeyEnv(t)
	alice := e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	for _, a := range []*softAuthenticator{
		{t: t, origin: "http://login.example.test"}, // the right host over plain http
		{t: t, origin: testOrigin, rpID: "example.test"},
	} {
		opts, state, err := e.svc.BeginPasskeyRegistration(t.Context(), alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.FinishPasskeyRegistration(t.Context(), alice.ID, state, "x", a.create(opts))
		checkRefused(t, "registration from "+a.origin+" for rp "+a.rpID, err)
	}
	if list, _ := e.svc.Passkeys(t.Context(), alice.ID); len(list) != 0 {
		t.Errorf("alice has %d passkeys, want none", len(list))
	}
}

func TestPasskeyDisabledUser(t *testing.T) {
	e := newPasskeyEnv(t)
	alice := e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	a := newSoftAuthenticator(t, testOrigin)
	e.register(t, a, alice.ID, "laptop")
	if _, err := e.svc.Disable(t.Context(), admin, alice.ID); err != nil {
		t.Fatal(err)
	}
	opts, state := e.beginLogin(t, "")
	if _, err := e.svc.FinishPasskeyLogin(t.Context(), state, a.get(opts, nil)); !errors.Is(err, ErrDisabled) {
		t.Errorf("a disabled user's passkey: %v, want ErrDisabled", err)
	}
}

func TestPasskeysOff(t *testing.T) {
	e := newEnv(t)
	alice := e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	for _, u := range []string{"", "http://127.0.0.1:8080", "https://[::1]", "not a url", "ftp://host"} {
		svc := New(Config{DB: e.db, Params: testParams, PublicURL: u})
		if err := svc.PasskeysAvailable(); !errors.Is(err, ErrPasskeysOff) {
			t.Errorf("PublicURL %q: PasskeysAvailable = %v, want ErrPasskeysOff", u, err)
		}
		if _, _, err := svc.BeginPasskeyRegistration(t.Context(), alice.ID); !errors.Is(err, ErrPasskeysOff) {
			t.Errorf("PublicURL %q: BeginPasskeyRegistration = %v, want ErrPasskeysOff", u, err)
		}
	}
	svc := New(Config{DB: e.db, Params: testParams, PublicURL: "http://localhost:8080"})
	if err := svc.PasskeysAvailable(); err != nil {
		t.Errorf("http://localhost:8080: %v, want passkeys on (browsers allow localhost)", err)
	}
}

// TestPasskeyStateNotStored: the store keeps only the hash of a ceremony's
// state token.
func TestPasskeyStateNotStored(t *testing.T) {
	e := newPasskeyEnv(t)
	alice := e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	_, state, err := e.svc.BeginPasskeyRegistration(t.Context(), alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, state2 := e.beginLogin(t, "")
	files, _ := filepath.Glob(filepath.Join(e.dir, "tokend.db*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{state, state2} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds a ceremony state token in clear", filepath.Base(f))
			}
		}
	}
}

func checkRefused(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrPasskeyRefused) {
		t.Errorf("%s: %v, want ErrPasskeyRefused", what, err)
	}
}

// checkEvents fails unless the audit log's passkey events are want,
// oldest first, each "action target".
func checkEvents(t *testing.T, e *env, want ...string) {
	t.Helper()
	evs, err := e.db.ListEvents(t.Context(), store.EventFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].TargetType == "passkey" {
			got = append(got, evs[i].Action+" "+evs[i].TargetID)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("passkey events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// withField returns the credential JSON body with response.<field>
// decoded, changed by change and encoded again.
func withField(t *testing.T, body []byte, field string, change func([]byte) []byte) []byte {
	t.Helper()
	var m map[string]any
	mustUnmarshal(t, body, &m)
	resp := m["response"].(map[string]any)
	v, err := b64u.DecodeString(resp[field].(string))
	if err != nil {
		t.Fatal(err)
	}
	resp[field] = b64u.EncodeToString(change(v))
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPasskeyCredentialKeys: a credential's keys are read as written, as
// every JSON body tokend reads (jsonkeys): an assertion good but for a
// key in another case, a key given twice (inside clientExtensionResults
// too) or a key go-webauthn does not know is refused as a *valid.Error
// on the credential, naming the field, and does not use up the ceremony;
// clientExtensionResults is free-form, so any extension's key passes the
// key check (go-webauthn then refuses an extension not asked for).
// A registration is checked so too.
func TestPasskeyCredentialKeys(t *testing.T) {
	e := newPasskeyEnv(t)
	ctx := t.Context()
	alice := e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	good := newSoftAuthenticator(t, testOrigin)
	e.register(t, good, alice.ID, "laptop")
	const typ, ext = `"type":"public-key"`, `"clientExtensionResults":{}`
	for _, tt := range []struct {
		name, old, new, field string
	}{
		{"a key in another case", typ, `"TYPE":"public-key"`, `"TYPE"`},
		{"a key given twice", typ, typ + "," + typ, `"type"`},
		{"an unknown key", typ, typ + `,"admin":true`, `"admin"`},
		{"an unknown key in the response", `"response":{`, `"response":{"admin":true,`, `"response.admin"`},
		{"a key given twice among the extensions", ext, `"clientExtensionResults":{"credProps":{"rk":true},"credProps":{}}`,
			`"clientExtensionResults"`},
		{"any extension's key", ext, `"clientExtensionResults":{"credProps":{"rk":true},"Some-Future_ext":[1]}`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts, state := e.beginLogin(t, alice.ID)
			body := good.get(opts, nil)
			if !bytes.Contains(body, []byte(tt.old)) {
				t.Fatalf("the assertion %s holds no %s", body, tt.old)
			}
			body = bytes.Replace(body, []byte(tt.old), []byte(tt.new), 1)
			u, err := e.svc.FinishPasskeyLogin(ctx, state, body)
			if tt.field == "" {
				// Past the key check, go-webauthn judges the extensions
				// (none was asked for).
				if _, ok := errors.AsType[*valid.Error](err); ok || !errors.Is(err, ErrPasskeyRefused) {
					t.Errorf("FinishPasskeyLogin = %v; want go-webauthn's refusal, not the key check's", err)
				}
				return
			}
			if bad, ok := errors.AsType[*valid.Error](err); !ok || bad.Field != "credential" || !strings.Contains(bad.Reason, tt.field) {
				t.Errorf("FinishPasskeyLogin = %s, %v; want a *valid.Error on the credential naming %s", u.ID, err, tt.field)
			}
			if u, err := e.svc.FinishPasskeyLogin(ctx, state, good.get(opts, nil)); err != nil || u.ID != alice.ID {
				t.Errorf("the good answer after it = %s, %v; want alice: a refused body must not use up the ceremony", u.ID, err)
			}
		})
	}
	ropts, state, err := e.svc.BeginPasskeyRegistration(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.Replace(good.create(ropts), []byte(typ), []byte(`"Type":"public-key"`), 1)
	if _, err := e.svc.FinishPasskeyRegistration(ctx, alice.ID, state, "phone", body); !strings.Contains(fmt.Sprint(err), `"Type"`) {
		t.Errorf("FinishPasskeyRegistration with a key in another case = %v, want a *valid.Error naming it", err)
	}
	if list, _ := e.svc.Passkeys(ctx, alice.ID); len(list) != 1 {
		t.Errorf("alice has %d passkeys, want 1", len(list))
	}
}
