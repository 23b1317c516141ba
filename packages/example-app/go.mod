// Paved's example app: what a tenant deploys first, and what Paved's tests
// run as a real container. Standard library only.
module paved.dev/example-app

go 1.24.0
