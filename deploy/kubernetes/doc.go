// Package kubernetes holds the Kubernetes manifests of the lab's two APIs
// (ml-api.yaml, traditional-api.yaml): a Deployment and a Service each,
// with the startup, readiness and liveness probes the production lab
// recommends. Its tests decode them strictly with the Kubernetes API types
// and check that every probe asks the API for a path and port it serves.
package kubernetes
