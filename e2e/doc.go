// Package e2e holds the end-to-end tests of postpolicy: forms signed by the
// library are posted to a real S3-compatible server, Versity S3 Gateway
// (versitygw) v1.8.0, started on a loopback port for each test, and the
// server's answers are checked: good uploads are stored and read back, and
// every restriction the policy expresses is refused with the server's error
// code, with no object stored.
//
// It is a module of its own so that the library's go.mod stays free of the
// AWS SDK, which the tests use only to create the bucket and read objects
// back. Run it with
//
//	CGO_ENABLED=0 go install -ldflags="-s -w" github.com/versity/versitygw/cmd/versitygw@v1.8.0
//	cd e2e && go test -race -v ./...
//
// or with bash .ci/e2e from the repository root, which installs the server
// when it is missing. The tests find the server binary at $VERSITYGW, on
// $PATH, or in $(go env GOPATH)/bin. Without it they are skipped, except when
// the environment variable CI is set, where they fail.
package e2e
