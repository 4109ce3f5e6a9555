package node

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/ids"
	"github.com/tokend/tokend/internal/store"
)

// Bench API settings: every seeded key belongs to this API.
const (
	Audience = "https://bench.example"
	Prefix   = "bench"
	// TokenLen is the length of every token of Prefix.
	TokenLen = len(Prefix) + 1 + 43 + 6
)

var seeder = audit.Actor{ID: "bench-seed", IP: "127.0.0.1"}

// CreateBenchAPI creates the API the seeded keys belong to.
func (n *Node) CreateBenchAPI(ctx context.Context) (string, error) {
	a, err := n.Keys.CreateAPI(ctx, audit.System, api.CreateAPIRequest{Name: "bench", Audience: Audience,
		Scopes: []string{"read", "write"}, KeyPrefix: Prefix})
	return a.ID, err
}

// Tokens holds the secrets of seeded keys back to back, TokenLen bytes
// each, to keep the load generator's share of the RSS small.
type Tokens struct{ b []byte }

// Len returns the number of tokens.
func (t *Tokens) Len() int { return len(t.b) / TokenLen }

// At returns token i as bytes (no copy).
func (t *Tokens) At(i int) []byte { return t.b[i*TokenLen : (i+1)*TokenLen] }

// Bytes returns the size of the table.
func (t *Tokens) Bytes() int { return cap(t.b) }

// Seed adds keys to API apiID until toks holds total tokens, writing
// through store.CreateKey (one transaction per key, as the service does)
// from parallel goroutines, and reports progress to w.
func (n *Node) Seed(ctx context.Context, apiID string, toks *Tokens, total int, w io.Writer) error {
	from := toks.Len()
	if total <= from {
		return nil
	}
	grown := make([]byte, total*TokenLen)
	copy(grown, toks.b)
	toks.b = grown
	var next atomic.Int64
	next.Store(int64(from))
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	start := time.Now()
	stopProgress := progress(w, &done, total-from, start)
	for range 4 * runtime.NumCPU() {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < total; i = int(next.Add(1) - 1) {
				if err := n.seedOne(ctx, apiID, i, toks.At(i)); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	stopProgress()
	select {
	case err := <-errs:
		return err
	default:
	}
	el := time.Since(start)
	fmt.Fprintf(w, "seeded %d keys (now %d) in %s: %.0f keys/s (%d goroutines over store.CreateKey)\n",
		total-from, total, el.Round(time.Millisecond), float64(total-from)/el.Seconds(), 4*runtime.NumCPU())
	return nil
}

func progress(w io.Writer, done *atomic.Int64, want int, start time.Time) (stop func()) {
	t := time.NewTicker(10 * time.Second)
	quit := make(chan struct{})
	go func() {
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				d := done.Load()
				fmt.Fprintf(w, "  seeding: %d/%d, %.0f keys/s\n", d, want, float64(d)/time.Since(start).Seconds())
			}
		}
	}()
	return func() { t.Stop(); close(quit) }
}

// seedOne builds the records apikey.Service.CreateKey would for key i and
// writes them, storing the token in dst.
func (n *Node) seedOne(ctx context.Context, apiID string, i int, dst []byte) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	token := credential.Generate(Prefix)
	if len(token) != TokenLen {
		return fmt.Errorf("token length %d, want %d", len(token), TokenLen)
	}
	copy(dst, token)
	k := store.Key{ID: ids.New("key", now), APIID: apiID, Prefix: Prefix, Subject: "user_" + strconv.Itoa(i),
		Scopes: []string{"read"}, Enabled: true, CreatedAt: now, UpdatedAt: now}
	start, end := credential.Display(token)
	sec := store.Secret{Hash: credential.Hash(token), KeyID: k.ID, Start: start, End: end, CreatedAt: now}
	k.Start, k.End = start, end
	view := apikey.KeyView(k)
	view.LastUsedAt, view.UsageCount, view.UpdatedAt = nil, 0, time.Time{}
	ev, err := audit.Change(seeder, now, "key.create", "key", k.ID, nil, view)
	if err != nil {
		return err
	}
	return n.DB.CreateKey(ctx, k, sec, ev)
}

// AdminKey creates a key of the built-in API with scopes and returns its
// secret.
func (n *Node) AdminKey(ctx context.Context, name string, scopes ...string) (string, error) {
	_, token, err := n.Keys.CreateAdminKey(ctx, audit.Actor{ID: "bench"}, name, scopes)
	return token, err
}
