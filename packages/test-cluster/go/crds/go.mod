// Pins the upstream projects whose CRDs the test cluster installs, and the
// Knative Serving release (with the networking and caching versions its
// go.mod requires) whose config/ the real data plane applies. Nothing is
// built from this module: scripts/build-control-plane.sh runs
// `go mod download` on each require line and reads the CRD manifests from the
// unpacked module directories (see ../../src/crds.ts for the paths).
module paved.dev/test-cluster/crds

go 1.26.0

require (
	github.com/cilium/cilium v1.20.2
	github.com/projectcapsule/capsule v0.12.4
	knative.dev/caching v0.0.0-20240716132144-989f54c83776
	knative.dev/networking v0.0.0-20240716111826-bab7f2a3e556
	knative.dev/serving v0.42.2
)
