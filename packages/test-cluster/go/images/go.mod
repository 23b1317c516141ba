// Tools that make container images for the test cluster's real node without
// Docker or a registry: mkimage writes `docker save` tarballs that
// `ctr -n k8s.io images import` loads, and pause is the pod sandbox's PID 1.
// Standard library only.
module paved.dev/test-cluster/images

go 1.24.0
