package signer

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/store"
)

func kids(s *Signer) []string {
	var out []string
	for _, k := range s.JWKS().Keys {
		out = append(out, k.KeyID)
	}
	return out
}

func signingKID(t testing.TB, s *Signer) string {
	t.Helper()
	return decodeHeader(t, mustSign(t, s, 0))["kid"].(string)
}

func states(t testing.TB, s *Signer) map[string]KeyState {
	t.Helper()
	keys, err := s.Keys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]KeyState{}
	for _, k := range keys {
		out[k.KID] = k.State
	}
	return out
}

func TestRotation(t *testing.T) {
	db, _ := openDB(t)
	c := newClock()
	s := newSigner(t, db, c, ES256)
	k1 := signingKID(t, s)
	old := mustSign(t, s, 1)

	k2, err := s.Rotate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if k2.State != StatePending || !k2.ActiveAt.Equal(c.Now().Add(lead)) {
		t.Fatalf("Rotate = %+v, want pending until now+lead", k2)
	}
	if again, err := s.Rotate(t.Context()); err != nil || again.KID != k2.KID {
		t.Fatalf("second Rotate = %v, %v; want the pending key %s again", again.KID, err, k2.KID)
	}
	if got := kids(s); !slices.Equal(got, []string{k1, k2.KID}) {
		t.Errorf("JWKS during the lead time = %v, want [%s %s]", got, k1, k2.KID)
	}
	if got := signingKID(t, s); got != k1 {
		t.Errorf("during the lead time Sign uses %s, want the old key %s", got, k1)
	}

	c.Advance(lead - time.Second)
	if got := signingKID(t, s); got != k1 {
		t.Errorf("1s before activation Sign uses %s, want %s", got, k1)
	}
	c.Advance(time.Second)
	if got := signingKID(t, s); got != k2.KID {
		t.Errorf("at activation Sign uses %s, want %s", got, k2.KID)
	}
	if got := states(t, s); got[k1] != StateRetired || got[k2.KID] != StateActive {
		t.Errorf("states after activation = %v", got)
	}
	mustVerify(t, s, old, 1)

	// The retired key stays published until its last token has expired.
	c.Advance(maxTTL - time.Second)
	mustVerify(t, s, old, 1)
	c.Advance(time.Second)
	if got := kids(s); !slices.Equal(got, []string{k2.KID}) {
		t.Errorf("JWKS after the retired key expired = %v, want [%s]", got, k2.KID)
	}
	if _, err := s.Verify(old, "at+jwt"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Verify(token of expired key) = %v, want ErrUnknownKey", err)
	}
	if err := s.Maintain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := states(t, s); len(got) != 1 {
		t.Errorf("after Maintain the store holds %v, want only %s", got, k2.KID)
	}
}

func TestScheduledRotation(t *testing.T) {
	db, _ := openDB(t)
	c := newClock()
	s := newSigner(t, db, c, ES256)
	k1 := signingKID(t, s)
	c.Advance(every - lead - time.Second)
	if err := s.Maintain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := kids(s); len(got) != 1 {
		t.Fatalf("rotated early: JWKS %v", got)
	}
	c.Advance(time.Second)
	if err := s.Maintain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := kids(s); len(got) != 2 {
		t.Fatalf("no scheduled rotation: JWKS %v", got)
	}
	if err := s.Maintain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := kids(s); len(got) != 2 {
		t.Fatalf("rotated twice: JWKS %v", got)
	}
	c.Advance(lead)
	if got := signingKID(t, s); got == k1 {
		t.Errorf("the scheduled key does not sign after the lead time")
	}
	evs, err := db.ListEvents(t.Context(), store.EventFilter{TargetType: "signing_key", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Action != "signing_key.rotate" || evs[1].Action != "signing_key.create" || evs[0].Actor != "system" {
		t.Errorf("audit events = %+v", evs)
	}
}

// TestTwoNodes runs two signers on one database: they agree on the keys,
// rotate once between them, and learn of each other's rotations by
// reloading.
func TestTwoNodes(t *testing.T) {
	db, path := openDB(t)
	db2, err := store.Open(t.Context(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db2.Close() })
	c := newClock()
	var a, b *Signer
	var wg sync.WaitGroup
	wg.Go(func() { a = newSigner(t, db, c, ES256) })
	wg.Go(func() { b = newSigner(t, db2, c, ES256) })
	wg.Wait()
	if err := b.Maintain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ka, kb := kids(a), kids(b); len(ka) != 1 || !slices.Equal(ka, kb) {
		t.Fatalf("nodes started together disagree: %v and %v", ka, kb)
	}

	c.Advance(every - lead)
	errs := make(chan error, 2)
	wg.Go(func() { errs <- a.Maintain(t.Context()) })
	wg.Go(func() { errs <- b.Maintain(t.Context()) })
	wg.Wait()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Maintain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ka, kb := kids(a), kids(b); len(ka) != 2 || !slices.Equal(ka, kb) {
		t.Fatalf("after a scheduled rotation on both nodes: %v and %v, want the same two keys", ka, kb)
	}

	// An on-demand rotation on a reaches b at its next reload.
	c.Advance(lead)
	k3, err := a.Rotate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Maintain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(kids(b), k3.KID) {
		t.Fatalf("b does not publish a's new key %s: %v", k3.KID, kids(b))
	}
	c.Advance(lead)
	tok := mustSign(t, b, 7)
	if signingKID(t, b) != k3.KID || signingKID(t, a) != k3.KID {
		t.Error("the nodes do not sign with the same key after the lead time")
	}
	mustVerify(t, a, tok, 7)
}

// TestEncryptedAtRest checks that no form of a private key reaches the
// database files, and that a wrong KEK is refused at start.
func TestEncryptedAtRest(t *testing.T) {
	for _, alg := range Algorithms {
		t.Run(alg, func(t *testing.T) {
			db, path := openDB(t)
			c := newClock()
			s := newSigner(t, db, c, alg)
			if _, err := s.Rotate(t.Context()); err != nil {
				t.Fatal(err)
			}
			var secrets [][]byte
			for _, k := range s.ring.Load().signing {
				der, err := x509.MarshalPKCS8PrivateKey(k.priv)
				if err != nil {
					t.Fatal(err)
				}
				secrets = append(secrets, der)
				jwk, err := (&keyJSON{k.priv}).marshal()
				if err != nil {
					t.Fatal(err)
				}
				d := jwk.D
				secrets = append(secrets, []byte(d))
				raw, _ := base64.RawURLEncoding.DecodeString(d)
				secrets = append(secrets, raw)
				if e, ok := k.priv.(*ecdsa.PrivateKey); ok {
					b, _ := e.Bytes()
					secrets = append(secrets, b)
				}
			}
			if len(secrets) < 6 {
				t.Fatalf("only %d secrets to look for", len(secrets))
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			var files []byte
			matches, _ := filepath.Glob(path + "*")
			for _, f := range matches {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, b...)
			}
			if !bytes.Contains(files, []byte(`"kty"`)) {
				t.Fatal("the public keys are not in the files; the search is broken")
			}
			for i, sec := range secrets {
				if bytes.Contains(files, sec) {
					t.Errorf("secret form %d (%d bytes) is in the database files", i, len(sec))
				}
			}

			db2, err := store.Open(t.Context(), path, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db2.Close()
			wrong := bytes.Repeat([]byte{7}, KEKSize)
			_, err = New(t.Context(), Config{DB: db2, KEK: wrong, Alg: alg, Lead: lead, RotateEvery: every, MaxTokenTTL: maxTTL, Now: c.Now})
			if !errors.Is(err, ErrWrongKEK) || !strings.Contains(err.Error(), "key-encryption key") {
				t.Errorf("New with the wrong KEK = %v, want ErrWrongKEK", err)
			}
			if _, err := New(t.Context(), Config{DB: db2, KEK: testKEK, Alg: alg, Lead: lead, RotateEvery: every, MaxTokenTTL: maxTTL, Now: c.Now}); err != nil {
				t.Errorf("New with the right KEK: %v", err)
			}
		})
	}
}

func TestSealBindsKID(t *testing.T) {
	box, err := sealKey(testKEK, "kid1", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := openKey(testKEK, "kid1", box); err != nil || string(pt) != "secret" {
		t.Fatalf("open = %q, %v", pt, err)
	}
	if _, err := openKey(testKEK, "kid2", box); !errors.Is(err, ErrWrongKEK) {
		t.Errorf("open under another kid = %v, want ErrWrongKEK", err)
	}
}
