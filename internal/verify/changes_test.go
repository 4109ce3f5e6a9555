package verify

import (
	"path/filepath"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
)

// TestChangesHeardFromAnotherNode checks what the engine does with a
// change another node made, as cluster.Listener hands it over: the
// changes are written through a second store handle (another node; its
// announcements do not reach this engine), then delivered to the
// engine's store. Only what the change names is dropped.
func TestChangesHeardFromAnotherNode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	open := func() *store.DB {
		db, err := store.Open(t.Context(), path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	db, other := open(), open()
	e := New(Config{DB: db})
	here := apikey.NewService(apikey.Config{DB: db})
	there := apikey.NewService(apikey.Config{DB: other})
	a, err := here.CreateAPI(t.Context(), audit.System, api.CreateAPIRequest{Name: "a", Audience: "aud", KeyPrefix: "t"})
	if err != nil {
		t.Fatal(err)
	}
	newKey := func() (string, string) {
		k, tok, err := here.CreateKey(t.Context(), audit.System, api.CreateKeyRequest{APIID: a.ID, Subject: "s"})
		if err != nil {
			t.Fatal(err)
		}
		return k.ID, tok
	}
	for _, tt := range []struct {
		name   string
		change func(tok string) store.Change
		want   api.Code
	}{
		{"nothing heard: the cache answers", func(string) store.Change { return store.Change{} }, api.CodeValid},
		{"another secret named", func(string) store.Change {
			return store.Change{Secrets: [][32]byte{credential.Hash("other")}}
		}, api.CodeValid},
		{"its secret named", func(tok string) store.Change {
			return store.Change{Secrets: [][32]byte{credential.Hash(tok)}}
		}, api.CodeRevoked},
		{"drop everything", func(string) store.Change { return store.Change{All: true} }, api.CodeRevoked},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id, tok := newKey()
			if c := code(t, e, tok); c != api.CodeValid {
				t.Fatalf("before: %s", c)
			}
			if _, err := there.RevokeKey(t.Context(), audit.System, id); err != nil {
				t.Fatal(err)
			}
			db.Deliver(tt.change(tok))
			if c := code(t, e, tok); c != tt.want {
				t.Errorf("after the revocation on another node: %s, want %s", c, tt.want)
			}
		})
	}
}
