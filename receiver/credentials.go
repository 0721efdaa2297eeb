package receiver

import (
	"context"

	"github.com/postpolicy/postpolicy"
)

// StaticCredentials returns a Verifier Lookup function over a fixed set of
// credentials, found by their access key id; an unknown id gives
// [ErrUnknownAccessKey].
func StaticCredentials(creds ...postpolicy.Credentials) func(ctx context.Context, accessKeyID string) (postpolicy.Credentials, error) {
	set := make(map[string]postpolicy.Credentials, len(creds))
	for _, c := range creds {
		set[c.AccessKeyID] = c
	}
	return func(_ context.Context, id string) (postpolicy.Credentials, error) {
		if c, ok := set[id]; ok {
			return c, nil
		}
		return postpolicy.Credentials{}, ErrUnknownAccessKey
	}
}
