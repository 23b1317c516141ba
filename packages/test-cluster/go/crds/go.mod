// Pins the upstream projects whose CRDs the test cluster installs. Nothing is
// built from this module: scripts/build-control-plane.sh runs
// `go mod download` on each require line and reads the CRD manifests from the
// unpacked module directories (see ../../src/crds.ts for the paths).
module paved.dev/test-cluster/crds

go 1.26.0

require (
	github.com/cilium/cilium v1.20.2
	github.com/projectcapsule/capsule v0.12.4
	knative.dev/serving v0.51.0
)
