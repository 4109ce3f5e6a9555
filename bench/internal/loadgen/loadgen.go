// Package loadgen is a small closed-loop HTTP load generator for the
// benchmark commands: c workers, each on its own keep-alive connection,
// send POST requests back to back and record every latency in a
// log-linear histogram.
package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Target describes the requests to send.
type Target struct {
	URL  string
	Auth string // the Authorization header value, if any
	// ContentType of the body; default application/json.
	ContentType string
	// Body appends the body of request n to buf. n is random, or the
	// sequence number of the request when Run is given a count.
	Body func(n uint64, buf []byte) []byte
	// Sign, if set, signs each request before it is sent (outside the
	// measured latency), as a client of signed requests does.
	Sign       func(*http.Request) error
	WantStatus int
	// Want must occur in a good response body; nil accepts any.
	Want []byte
}

// Result is the outcome of a run.
type Result struct {
	OK, Errors int64
	Elapsed    time.Duration
	FirstErr   string
	hist       Hist
}

// RPS is the rate of good responses.
func (r *Result) RPS() float64 { return float64(r.OK) / r.Elapsed.Seconds() }

// Percentile returns the latency at quantile q (0 to 1), good or not.
func (r *Result) Percentile(q float64) time.Duration { return r.hist.Percentile(q) }

func (r *Result) String() string {
	s := fmt.Sprintf("%9.0f req/s  p50 %8s  p99 %8s  ok %d  errors %d", r.RPS(),
		r.Percentile(0.50).Round(time.Microsecond), r.Percentile(0.99).Round(time.Microsecond), r.OK, r.Errors)
	if r.FirstErr != "" {
		s += "  (first error: " + r.FirstErr + ")"
	}
	return s
}

// Client returns an HTTP client for c concurrent keep-alive connections.
func Client(c int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns: c, MaxIdleConnsPerHost: c, MaxConnsPerHost: c,
		IdleConnTimeout: 90 * time.Second, DisableCompression: true,
	}, Timeout: 30 * time.Second}
}

// Run drives t with c workers through client for d, or, when count > 0,
// until count requests numbered 0 to count-1 were sent.
func Run(client *http.Client, t Target, c int, d time.Duration, count uint64) *Result {
	var (
		stop atomic.Bool
		seq  atomic.Uint64
		wg   sync.WaitGroup
		mu   sync.Mutex
		res  Result
	)
	start := time.Now()
	if count == 0 {
		timer := time.AfterFunc(d, func() { stop.Store(true) })
		defer timer.Stop()
	}
	for w := range c {
		wg.Go(func() {
			wk := worker{client: client, t: t, rng: rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))}
			for !stop.Load() {
				n := wk.rng.Uint64()
				if count > 0 {
					if n = seq.Add(1) - 1; n >= count {
						break
					}
				}
				wk.do(n)
			}
			mu.Lock()
			defer mu.Unlock()
			res.OK += wk.ok
			res.Errors += wk.errs
			res.hist.Merge(&wk.hist)
			if res.FirstErr == "" {
				res.FirstErr = wk.firstErr
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	return &res
}

// worker is one connection's loop state.
type worker struct {
	client   *http.Client
	t        Target
	rng      *rand.Rand
	body     []byte
	resp     bytes.Buffer
	hist     Hist
	ok, errs int64
	firstErr string
}

func (w *worker) do(n uint64) {
	w.body = w.t.Body(n, w.body[:0])
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, w.t.URL, bytes.NewReader(w.body))
	if err != nil {
		panic(err)
	}
	ct := w.t.ContentType
	if ct == "" {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	if w.t.Auth != "" {
		req.Header.Set("Authorization", w.t.Auth)
	}
	if w.t.Sign != nil {
		if err := w.t.Sign(req); err != nil {
			panic(err)
		}
	}
	begin := time.Now()
	resp, err := w.client.Do(req)
	if err == nil {
		w.resp.Reset()
		_, err = w.resp.ReadFrom(resp.Body)
		resp.Body.Close()
	}
	w.hist.Record(time.Since(begin))
	switch {
	case err != nil:
		w.fail(err.Error())
	case resp.StatusCode != w.t.WantStatus:
		w.fail(fmt.Sprintf("status %d: %.200s", resp.StatusCode, w.resp.Bytes()))
	case w.t.Want != nil && !bytes.Contains(w.resp.Bytes(), w.t.Want):
		w.fail(fmt.Sprintf("unexpected body: %.200s", w.resp.Bytes()))
	default:
		w.ok++
	}
}

func (w *worker) fail(msg string) {
	w.errs++
	if w.firstErr == "" {
		w.firstErr = msg
	}
}

// Hist is a log-linear latency histogram in nanoseconds: exact below
// 128ns, then 64 buckets per power of two (at most 1.6% error).
type Hist struct {
	counts [64 * 40]uint64
	n      uint64
}

func bucket(v uint64) int {
	if v < 128 {
		return int(v)
	}
	shift := bits.Len64(v) - 7
	return min(shift*64+int(v>>shift), len(Hist{}.counts)-1)
}

func value(i int) uint64 {
	if i < 128 {
		return uint64(i)
	}
	shift := i/64 - 1
	m := uint64(i - shift*64)
	return m<<shift + (1<<shift)/2
}

// Record adds one latency.
func (h *Hist) Record(d time.Duration) {
	h.counts[bucket(uint64(max(d, 0)))]++
	h.n++
}

// Merge adds o's counts to h.
func (h *Hist) Merge(o *Hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// Percentile returns the latency at quantile q.
func (h *Hist) Percentile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n-1)) + 1
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return time.Duration(value(i))
		}
	}
	return time.Duration(value(len(h.counts) - 1))
}
