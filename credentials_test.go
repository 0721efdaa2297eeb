package postpolicy_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postpolicy/postpolicy"
)

var tempCredentials = postpolicy.Credentials{
	AccessKeyID:     exampleAKID,
	SecretAccessKey: exampleSecretKey,
	SessionToken:    exampleSessionToken,
}

// assertNoSecret fails when out holds the secret or the token, raw or in
// an encoding a formatter could produce (%x, %X, base64).
func assertNoSecret(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range []string{exampleSecretKey, exampleSessionToken} {
		for _, enc := range []string{
			s,
			hex.EncodeToString([]byte(s)),
			strings.ToUpper(hex.EncodeToString([]byte(s))),
			base64.StdEncoding.EncodeToString([]byte(s)),
			// Fragments: a formatter that split or truncated the value.
			s[:len(s)/2], s[len(s)/2:],
		} {
			if strings.Contains(out, enc) {
				t.Errorf("%s leaks a secret: %s", what, out)
				return
			}
		}
	}
	if !strings.Contains(out, exampleAKID) && !strings.Contains(out, hex.EncodeToString([]byte(exampleAKID))) {
		t.Errorf("%s does not show the access key id: %s", what, out)
	}
}

type request struct {
	Bucket string
	Creds  postpolicy.Credentials
}

type requestPtr struct {
	Bucket string
	Creds  *postpolicy.Credentials
}

func TestCredentialsFmtRedacted(t *testing.T) {
	c := tempCredentials
	values := map[string]any{
		"value":             c,
		"pointer":           &c,
		"in a struct":       request{"acme-uploads", c},
		"pointer in struct": requestPtr{"acme-uploads", &c},
		"in a slice":        []postpolicy.Credentials{c},
		"in a map":          map[string]postpolicy.Credentials{"k": c},
		"in an interface":   []any{c},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%[1]T %[1]v", "%10v", "%-40s", "% x", "%#x", "%08d"}
	for name, v := range values {
		for _, verb := range verbs {
			t.Run(name+"/"+verb, func(t *testing.T) {
				assertNoSecret(t, verb, fmt.Sprintf(verb, v))
			})
		}
		t.Run(name+"/Sprint", func(t *testing.T) {
			assertNoSecret(t, "Sprint", fmt.Sprint(v))
			assertNoSecret(t, "Sprintln", fmt.Sprintln("creds:", v))
		})
	}
}

func TestCredentialsStringForms(t *testing.T) {
	c := tempCredentials
	for _, tc := range []struct{ name, got, want string }{
		{"String", c.String(), "Credentials{AccessKeyID: AKIAIOSFODNN7EXAMPLE, SecretAccessKey: REDACTED, SessionToken: REDACTED}"},
		{"GoString", c.GoString(), `postpolicy.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "REDACTED", SessionToken: "REDACTED"}`},
		{"%q", fmt.Sprintf("%q", c), `"Credentials{AccessKeyID: AKIAIOSFODNN7EXAMPLE, SecretAccessKey: REDACTED, SessionToken: REDACTED}"`},
		{"no token", postpolicy.Credentials{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecretKey}.String(), `Credentials{AccessKeyID: AKIAIOSFODNN7EXAMPLE, SecretAccessKey: REDACTED, SessionToken: }`},
		{"empty", postpolicy.Credentials{}.GoString(), `postpolicy.Credentials{AccessKeyID: "", SecretAccessKey: "", SessionToken: ""}`},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}

func TestCredentialsSlogRedacted(t *testing.T) {
	c := tempCredentials
	for _, h := range []struct {
		name string
		new  func(*bytes.Buffer) slog.Handler
	}{
		{"text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
		{"json", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
	} {
		for _, tc := range []struct {
			name string
			log  func(*slog.Logger)
		}{
			{"attribute", func(l *slog.Logger) { l.Info("signing", "creds", c) }},
			{"pointer attribute", func(l *slog.Logger) { l.Info("signing", "creds", &c) }},
			{"slog.Any", func(l *slog.Logger) { l.Info("signing", slog.Any("creds", c)) }},
			{"nested struct", func(l *slog.Logger) { l.Info("signing", slog.Any("req", request{"acme-uploads", c})) }},
			{"nested pointer", func(l *slog.Logger) { l.Info("signing", slog.Any("req", requestPtr{"acme-uploads", &c})) }},
			{"group", func(l *slog.Logger) { l.Info("signing", slog.Group("g", "creds", c)) }},
			{"With", func(l *slog.Logger) { l.With("creds", c).Info("signing") }},
			{"message", func(l *slog.Logger) { l.Info(fmt.Sprint(c)) }},
		} {
			t.Run(h.name+"/"+tc.name, func(t *testing.T) {
				var buf bytes.Buffer
				tc.log(slog.New(h.new(&buf)))
				assertNoSecret(t, "log output", buf.String())
				if !strings.Contains(buf.String(), "REDACTED") {
					t.Errorf("log output does not say REDACTED: %s", buf.String())
				}
			})
		}
	}

	// The group LogValue resolves to, as data.
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "creds", c)
	var rec struct {
		Creds map[string]string `json:"creds"`
	}
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"access_key_id": exampleAKID, "secret_access_key": "REDACTED", "session_token": "REDACTED"}
	if diff := cmp.Diff(want, rec.Creds); diff != "" {
		t.Errorf("logged credentials (-want +got):\n%s", diff)
	}
}

func TestCredentialsJSONRedacted(t *testing.T) {
	c := tempCredentials
	for name, v := range map[string]any{
		"value":          c,
		"pointer":        &c,
		"in a struct":    request{"acme-uploads", c},
		"pointer struct": requestPtr{"acme-uploads", &c},
		"in a map":       map[string]any{"creds": c},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			assertNoSecret(t, "json.Marshal", string(b))
			b, err = json.MarshalIndent(v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			assertNoSecret(t, "json.MarshalIndent", string(b))
		})
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("MarshalJSON gave invalid JSON %s: %v", b, err)
	}
	want := map[string]string{"AccessKeyID": exampleAKID, "SecretAccessKey": "REDACTED", "SessionToken": "REDACTED"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MarshalJSON (-want +got):\n%s", diff)
	}
	// An access key id that needs escaping stays valid JSON.
	b, _ = json.Marshal(postpolicy.Credentials{AccessKeyID: `A"K\`, SecretAccessKey: "x"})
	if !json.Valid(b) {
		t.Errorf("MarshalJSON = %s, not valid JSON", b)
	}
}

func TestCredentialsInErrors(t *testing.T) {
	c := tempCredentials
	for name, err := range map[string]error{
		"errors.New":        errors.New("signing with " + c.String()),
		"fmt.Errorf %v":     fmt.Errorf("signing with %v", c),
		"fmt.Errorf %+v":    fmt.Errorf("signing with %+v", c),
		"fmt.Errorf %#v":    fmt.Errorf("signing with %#v", c),
		"fmt.Errorf struct": fmt.Errorf("request %v", request{"acme-uploads", c}),
		"fmt.Errorf %w":     fmt.Errorf("outer: %w", fmt.Errorf("signing with %v", &c)),
	} {
		t.Run(name, func(t *testing.T) { assertNoSecret(t, name, err.Error()) })
	}
}

func TestCredentialsRetrieve(t *testing.T) {
	for _, c := range []postpolicy.Credentials{tempCredentials, {}, {AccessKeyID: exampleAKID, SecretAccessKey: exampleSecretKey}} {
		got, err := c.Retrieve(context.Background())
		if err != nil || got != c {
			t.Errorf("Retrieve = %v, %v; want the credentials themselves", got, err)
		}
	}
	var _ postpolicy.CredentialsSource = postpolicy.Credentials{}
}

func TestEnvCredentials(t *testing.T) {
	const (
		id     = "AWS_ACCESS_KEY_ID"
		secret = "AWS_SECRET_ACCESS_KEY"
		token  = "AWS_SESSION_TOKEN"
	)
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    postpolicy.Credentials
		missing []string // variables the error must name; nil for success
		invalid bool     // an error that names no variable
	}{
		{"all three", map[string]string{id: exampleAKID, secret: exampleSecretKey, token: exampleSessionToken}, tempCredentials, nil, false},
		{"no token", map[string]string{id: exampleAKID, secret: exampleSecretKey}, postpolicy.Credentials{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecretKey}, nil, false},
		{"whitespace trimmed", map[string]string{id: "  " + exampleAKID + "\n", secret: "\t" + exampleSecretKey + " \r\n", token: " " + exampleSessionToken + "\n"}, tempCredentials, nil, false},
		{"blank token", map[string]string{id: exampleAKID, secret: exampleSecretKey, token: " \n"}, postpolicy.Credentials{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecretKey}, nil, false},
		{"id missing", map[string]string{secret: exampleSecretKey, token: exampleSessionToken}, postpolicy.Credentials{}, []string{id}, false},
		{"secret missing", map[string]string{id: exampleAKID, token: exampleSessionToken}, postpolicy.Credentials{}, []string{secret}, false},
		{"secret blank", map[string]string{id: exampleAKID, secret: "   "}, postpolicy.Credentials{}, []string{secret}, false},
		{"both missing", map[string]string{token: exampleSessionToken}, postpolicy.Credentials{}, []string{id, secret}, false},
		{"nothing set", map[string]string{}, postpolicy.Credentials{}, []string{id, secret}, false},
		{"id with a slash", map[string]string{id: "AKIA/EXAMPLE", secret: exampleSecretKey, token: exampleSessionToken}, postpolicy.Credentials{}, nil, true},
		{"token with a line break inside", map[string]string{id: exampleAKID, secret: exampleSecretKey, token: exampleSessionToken + "\n" + exampleSessionToken}, postpolicy.Credentials{}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var asked []string
			got, err := postpolicy.EnvCredentials(func(k string) string {
				asked = append(asked, k)
				return tc.env[k]
			})
			slices.Sort(asked)
			if diff := cmp.Diff([]string{id, secret, token}, asked); diff != "" {
				t.Errorf("variables read (-want +got):\n%s", diff)
			}
			if got != tc.want {
				t.Errorf("EnvCredentials = %#v, want %#v", got, tc.want)
				if got.SecretAccessKey != tc.want.SecretAccessKey {
					t.Errorf("secret differs")
				}
			}
			if tc.missing == nil && !tc.invalid {
				if err != nil {
					t.Errorf("EnvCredentials error = %v", err)
				}
				return
			}
			if !errors.Is(err, postpolicy.ErrInvalidCredentials) {
				t.Fatalf("EnvCredentials error = %v, want ErrInvalidCredentials", err)
			}
			msg := err.Error()
			for _, v := range []string{id, secret, token} {
				named := strings.Contains(msg, v)
				want := false
				for _, m := range tc.missing {
					want = want || m == v
				}
				if named != want {
					t.Errorf("error %q names %s: %v, want %v", msg, v, named, want)
				}
			}
			for _, s := range []string{exampleSecretKey, exampleSessionToken} {
				if strings.Contains(msg, s) {
					t.Errorf("error %q contains a secret value", msg)
				}
			}
		})
	}
}
