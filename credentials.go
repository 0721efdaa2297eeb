package postpolicy

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// Credentials are AWS access keys: an access key id, its secret, and, for
// temporary credentials (an IAM role, STS), a session token.
//
// The secret and the token never leave a Credentials value through this
// package: String, GoString, Format (so every fmt verb), LogValue (log/slog)
// and MarshalJSON print them as REDACTED. The access key id is shown; it is
// not secret, and every signed form carries it in x-amz-credential.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

const redacted = "REDACTED"

// String returns the credentials with the secret and token redacted:
// Credentials{AccessKeyID: AKIA…, SecretAccessKey: REDACTED, SessionToken: REDACTED}.
// An empty secret or token is shown as "".
func (c Credentials) String() string {
	return "Credentials{AccessKeyID: " + c.AccessKeyID +
		", SecretAccessKey: " + redact(c.SecretAccessKey) +
		", SessionToken: " + redact(c.SessionToken) + "}"
}

// GoString returns the credentials as Go syntax, with the secret and token
// redacted, for %#v.
func (c Credentials) GoString() string {
	return "postpolicy.Credentials{AccessKeyID: " + strconv.Quote(c.AccessKeyID) +
		", SecretAccessKey: " + strconv.Quote(redact(c.SecretAccessKey)) +
		", SessionToken: " + strconv.Quote(redact(c.SessionToken)) + "}"
}

// Format implements fmt.Formatter so that every verb (%v, %+v, %s, %q, %x,
// ...) prints the redacted String, and %#v the redacted GoString.
func (c Credentials) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, c.GoString())
	case verb == 'q':
		fmt.Fprint(f, strconv.Quote(c.String()))
	default:
		fmt.Fprint(f, c.String())
	}
}

// LogValue implements slog.LogValuer: logged credentials show the access
// key id and REDACTED for the secret and token.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("access_key_id", c.AccessKeyID),
		slog.String("secret_access_key", redact(c.SecretAccessKey)),
		slog.String("session_token", redact(c.SessionToken)),
	)
}

// MarshalJSON writes the credentials with the secret and token redacted, so
// that a Credentials value embedded in a logged or returned struct cannot
// leak them.
func (c Credentials) MarshalJSON() ([]byte, error) {
	b := []byte(`{"AccessKeyID":`)
	b = appendJSONString(b, c.AccessKeyID)
	b = append(b, `,"SecretAccessKey":`...)
	b = appendJSONString(b, redact(c.SecretAccessKey))
	b = append(b, `,"SessionToken":`...)
	b = appendJSONString(b, redact(c.SessionToken))
	return append(b, '}'), nil
}

// MarshalText returns the redacted String, so that encoders which use
// encoding.TextMarshaler (encoding/xml among them) cannot leak the secret
// or token either.
func (c Credentials) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

func redact(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

// Retrieve returns c itself, so that a Credentials value can be used where a
// [CredentialsSource] is expected.
func (c Credentials) Retrieve(context.Context) (Credentials, error) { return c, nil }

// CredentialsSource supplies credentials each time a form is signed. It lets
// rotating credentials (an IAM role refreshed by any AWS SDK) plug into a
// [Signer] without this module importing an SDK. Retrieve must be safe for
// concurrent use; it may cache and refresh as it likes. For aws-sdk-go-v2:
//
//	type awsSource struct{ p aws.CredentialsProvider }
//
//	func (s awsSource) Retrieve(ctx context.Context) (postpolicy.Credentials, error) {
//		c, err := s.p.Retrieve(ctx)
//		return postpolicy.Credentials{AccessKeyID: c.AccessKeyID,
//			SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}, err
//	}
type CredentialsSource interface {
	Retrieve(ctx context.Context) (Credentials, error)
}

// check reports why c cannot sign, without quoting the secret or token.
func (c Credentials) check() error {
	switch {
	case c.AccessKeyID == "":
		return fmt.Errorf("%w: the access key id is empty", ErrInvalidCredentials)
	case strings.ContainsAny(c.AccessKeyID, "/ \t\r\n\"\\"):
		return fmt.Errorf("%w: the access key id %q holds a character that breaks the credential scope", ErrInvalidCredentials, c.AccessKeyID)
	case c.SecretAccessKey == "":
		return fmt.Errorf("%w: the secret access key is empty", ErrInvalidCredentials)
	case strings.ContainsAny(c.SessionToken, "\r\n"):
		return fmt.Errorf("%w: the session token holds a line break", ErrInvalidCredentials)
	}
	return nil
}

// EnvCredentials reads credentials from the environment variables the AWS
// tools use: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, for temporary
// credentials, AWS_SESSION_TOKEN. getenv looks a variable up; pass
// [os.Getenv]. The error names a missing variable, never a value.
func EnvCredentials(getenv func(string) string) (Credentials, error) {
	c := Credentials{
		AccessKeyID:     strings.TrimSpace(getenv("AWS_ACCESS_KEY_ID")),
		SecretAccessKey: strings.TrimSpace(getenv("AWS_SECRET_ACCESS_KEY")),
		SessionToken:    strings.TrimSpace(getenv("AWS_SESSION_TOKEN")),
	}
	var missing []string
	if c.AccessKeyID == "" {
		missing = append(missing, "AWS_ACCESS_KEY_ID")
	}
	if c.SecretAccessKey == "" {
		missing = append(missing, "AWS_SECRET_ACCESS_KEY")
	}
	if len(missing) > 0 {
		return Credentials{}, fmt.Errorf("%w: %s not set in the environment", ErrInvalidCredentials, strings.Join(missing, " and "))
	}
	if err := c.check(); err != nil {
		return Credentials{}, err
	}
	return c, nil
}
