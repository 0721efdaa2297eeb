package sigv4

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// readVector reads one of the published vectors in the repository's
// testdata directory.
func readVector(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// TestDeriveKeyExample reproduces the AWS signing-key example (kSigning
// f4780e2d…404d), testdata/aws-sigv4-signing-key-example.json.
func TestDeriveKeyExample(t *testing.T) {
	var v struct {
		Vectors []struct {
			Date     string `json:"date"`
			Region   string `json:"region"`
			Service  string `json:"service"`
			Secret   string `json:"secret_access_key"`
			Expected struct {
				KSigning string `json:"kSigning_hex"`
			} `json:"expected"`
		} `json:"vectors"`
	}
	readVector(t, "aws-sigv4-signing-key-example.json", &v)
	if len(v.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, vec := range v.Vectors {
		if got := hex.EncodeToString(DeriveKey(vec.Secret, vec.Date, vec.Region, vec.Service)); got != vec.Expected.KSigning {
			t.Errorf("%s: kSigning = %s, want %s", vec.Date, got, vec.Expected.KSigning)
		}
	}
}

// TestPOSTExample reproduces the signature of AWS's browser-upload example
// (8afdbf40…699e), testdata/aws-s3-sigv4-post-example.json, whole and from
// a cloned state after every possible split of the string to sign.
func TestPOSTExample(t *testing.T) {
	var v struct {
		AccessKeyID string `json:"access_key_id"`
		Secret      string `json:"secret_access_key"`
		Date        string `json:"date"`
		Region      string `json:"region"`
		Service     string `json:"service"`
		Credential  string `json:"credential"`
		Policy      string `json:"policy_base64"`
		Expected    struct {
			Signature string `json:"signature_hex"`
		} `json:"expected"`
	}
	readVector(t, "aws-s3-sigv4-post-example.json", &v)
	k := NewKey(v.AccessKeyID, v.Secret, v.Date, v.Region, v.Service)
	if k.Credential != v.Credential {
		t.Errorf("credential = %s, want %s", k.Credential, v.Credential)
	}
	if got := Signature(DeriveKey(v.Secret, v.Date, v.Region, v.Service), []byte(v.Policy)); string(got[:]) != v.Expected.Signature {
		t.Fatalf("signature = %s, want %s", got, v.Expected.Signature)
	}
	for split := 0; split <= len(v.Policy); split++ {
		m := k.MAC()
		m.Write([]byte(v.Policy[:split]))
		c := m.Clone()
		m.Write([]byte("something else"))
		c.Write([]byte(v.Policy[split:]))
		if got := c.HexSum(nil); string(got[:]) != v.Expected.Signature {
			t.Fatalf("split at %d: signature = %s, want %s", split, got, v.Expected.Signature)
		}
	}
}

// TestCloneIndependent checks that a clone and its original do not share
// state: both go on from the point of the clone.
func TestCloneIndependent(t *testing.T) {
	key := DeriveKey("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20151229", "us-east-1", "s3")
	base := NewMAC(key)
	base.Write([]byte("shared start, longer than one block of sixty-four bytes, so that the state has a partial block too"))
	a, b := base.Clone(), base.Clone()
	a.Write([]byte("A"))
	b.Write([]byte("B"))
	whole := func(s string) string {
		sig := Signature(key, []byte("shared start, longer than one block of sixty-four bytes, so that the state has a partial block too"+s))
		return string(sig[:])
	}
	if got := a.HexSum(nil); string(got[:]) != whole("A") {
		t.Errorf("clone a = %s, want %s", got, whole("A"))
	}
	if got := b.HexSum(nil); string(got[:]) != whole("B") {
		t.Errorf("clone b = %s, want %s", got, whole("B"))
	}
	if got := base.HexSum(nil); string(got[:]) != whole("") {
		t.Errorf("original = %s, want %s", got, whole(""))
	}
}

func TestAppendTime(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2015, 12, 29, 0, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 3, 8, 1, 59, 59, 0, time.FixedZone("x", -7*3600)),
	} {
		if got, want := string(AppendTime(nil, tm)), tm.UTC().Format(TimeLayout); got != want {
			t.Errorf("AppendTime(%v) = %s, want %s", tm, got, want)
		}
	}
}

func TestKey(t *testing.T) {
	k := NewKey("AKIAIOSFODNN7EXAMPLE", "secret", "20151229", "eu-west-1", "s3")
	if want := "AKIAIOSFODNN7EXAMPLE/20151229/eu-west-1/s3/aws4_request"; k.Credential != want {
		t.Errorf("Credential = %s, want %s", k.Credential, want)
	}
	if want := "20151229/eu-west-1/s3/aws4_request"; k.Scope() != want {
		t.Errorf("Scope = %s, want %s", k.Scope(), want)
	}
	if !k.Matches("AKIAIOSFODNN7EXAMPLE", "secret", []byte("20151229"), "eu-west-1", "s3") {
		t.Error("Matches its own inputs = false")
	}
	for _, in := range [][5]string{
		{"AKIAIOSFODNN7EXAMPLF", "secret", "20151229", "eu-west-1", "s3"},
		{"AKIAIOSFODNN7EXAMPLE", "secreT", "20151229", "eu-west-1", "s3"},
		{"AKIAIOSFODNN7EXAMPLE", "secret", "20151230", "eu-west-1", "s3"},
		{"AKIAIOSFODNN7EXAMPLE", "secret", "20151229", "eu-west-2", "s3"},
		{"AKIAIOSFODNN7EXAMPLE", "secret", "20151229", "eu-west-1", "s4"},
	} {
		if k.Matches(in[0], in[1], []byte(in[2]), in[3], in[4]) {
			t.Errorf("Matches(%q) = true", in)
		}
	}
}

// TestHexPairs checks the table HexSum writes with against encoding/hex.
func TestHexPairs(t *testing.T) {
	for b := range 256 {
		if got, want := string(hexPairs[b][:]), hex.EncodeToString([]byte{byte(b)}); got != want {
			t.Errorf("hexPairs[%d] = %s, want %s", b, got, want)
		}
	}
}
