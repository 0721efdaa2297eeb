// Package testutil holds the helpers the tests of several packages of this
// module share, so that each is written once. It is imported by tests
// only.
package testutil

import (
	"encoding/json"
	"os"
	"testing"
)

// ReadJSON reads the JSON file at path into v, failing t on any error.
func ReadJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
