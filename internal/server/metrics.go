package server

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"time"
)

// metrics counts requests by service, operation and outcome, and keeps a
// latency histogram per service and operation, in Prometheus's text format.
type metrics struct {
	mu       sync.Mutex
	requests map[[3]string]uint64
	latency  map[[2]string]*histogram
}

// Bucket bounds in seconds: from 100 µs to 10 s.
var latencyBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10}

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	sum    float64
	count  uint64
}

func newMetrics() *metrics {
	return &metrics{requests: map[[3]string]uint64{}, latency: map[[2]string]*histogram{}}
}

func (m *metrics) observe(service, op, outcome string, d time.Duration) {
	sec := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[3]string{service, op, outcome}]++
	h := m.latency[[2]string{service, op}]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets))}
		m.latency[[2]string{service, op}] = h
	}
	for i, b := range latencyBuckets {
		if sec <= b {
			h.counts[i]++
			break
		}
	}
	h.sum += sec
	h.count++
}

func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintln(w, "# HELP rampart_requests_total Requests by service, operation and outcome.")
	fmt.Fprintln(w, "# TYPE rampart_requests_total counter")
	keys := make([][3]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return a[0]+a[1]+a[2] < b[0]+b[1]+b[2]
	})
	for _, k := range keys {
		fmt.Fprintf(w, "rampart_requests_total{service=%q,operation=%q,outcome=%q} %d\n", k[0], k[1], k[2], m.requests[k])
	}
	fmt.Fprintln(w, "# HELP rampart_request_duration_seconds Time from request to answer.")
	fmt.Fprintln(w, "# TYPE rampart_request_duration_seconds histogram")
	lk := make([][2]string, 0, len(m.latency))
	for k := range m.latency {
		lk = append(lk, k)
	}
	sort.Slice(lk, func(i, j int) bool { return lk[i][0]+lk[i][1] < lk[j][0]+lk[j][1] })
	for _, k := range lk {
		h := m.latency[k]
		var cum uint64
		for i, b := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "rampart_request_duration_seconds_bucket{service=%q,operation=%q,le=\"%g\"} %d\n", k[0], k[1], b, cum)
		}
		fmt.Fprintf(w, "rampart_request_duration_seconds_bucket{service=%q,operation=%q,le=\"+Inf\"} %d\n", k[0], k[1], h.count)
		fmt.Fprintf(w, "rampart_request_duration_seconds_sum{service=%q,operation=%q} %g\n", k[0], k[1], h.sum)
		fmt.Fprintf(w, "rampart_request_duration_seconds_count{service=%q,operation=%q} %d\n", k[0], k[1], h.count)
	}
}
