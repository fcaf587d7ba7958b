// Package httpapi holds the HTTP contract that both lab APIs share: JSON
// errors, decoding and validation of /analyze requests, the /health, /live
// and /ready endpoints, the router's defaults, serving with graceful
// shutdown, and the healthcheck subcommand that probes a running API from
// inside an image with no shell.
package httpapi
