// Package observe measures HTTP services from the outside: it probes them,
// watches their start-up, times requests one at a time and in parallel, and
// summarises latencies. It knows nothing of Docker or of any lab.
package observe
