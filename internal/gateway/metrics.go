package gateway

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the gateway's per-route Prometheus metrics. The route label
// is a route's name (or "(unmatched)"), so its values are bounded by the
// route file; the code label by the HTTP status codes.
//
// The children of each vector are kept once looked up, so that a request
// costs one lock-free map read per metric rather than a hash of its
// label values and a lock.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	counters sync.Map // requestLabels → prometheus.Counter
	timers   sync.Map // route → prometheus.Observer
}

type requestLabels struct {
	route  string
	status int
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tokend_gateway_requests_total",
			Help: "Requests answered by the gateway, by route and HTTP status."}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tokend_gateway_upstream_seconds",
			Help:    "Time from sending a request upstream to its response headers, by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"route"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.latency)
	}
	return m
}

func (m *metrics) request(route string, status int) {
	k := requestLabels{route, status}
	c, ok := m.counters.Load(k)
	if !ok {
		c, _ = m.counters.LoadOrStore(k, m.requests.WithLabelValues(route, strconv.Itoa(status)))
	}
	c.(prometheus.Counter).Inc()
}

func (m *metrics) upstream(route string, d time.Duration) {
	o, ok := m.timers.Load(route)
	if !ok {
		o, _ = m.timers.LoadOrStore(route, m.latency.WithLabelValues(route))
	}
	o.(prometheus.Observer).Observe(d.Seconds())
}
