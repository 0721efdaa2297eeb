package s3multipart_test

import (
	"context"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/postpolicy/postpolicy"
	"github.com/postpolicy/postpolicy/s3multipart"
)

// userOf stands for the application's sessions.
func userOf(r *http.Request) (string, bool) {
	c, err := r.Cookie("session")
	if err != nil {
		return "", false
	}
	return c.Value, c.Value != ""
}

// Example is what a backend writes to let its signed-in users upload
// files of up to 10 GiB with Uppy's AwsS3 plugin in Companion mode
// (companionEndpoint: '/uploads'), each user under their own prefix, and
// to abort the uploads left incomplete.
func Example() {
	creds, err := postpolicy.EnvCredentials(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	backend := &s3multipart.Backend{
		Signer: &postpolicy.Signer{Credentials: creds, Region: "eu-west-1"},
		Rules: func(r *http.Request) (*s3multipart.Rules, error) {
			user, ok := userOf(r)
			if !ok {
				return nil, postpolicy.ErrUnauthenticated
			}
			return &s3multipart.Rules{
				Bucket:       "acme-user-uploads",
				KeyPrefix:    "users/" + user + "/",
				ContentTypes: []string{"video/", "image/", "application/pdf"},
				MaxSize:      10 << 30,
			}, nil
		},
		Sweep:    []s3multipart.Location{{Bucket: "acme-user-uploads", KeyPrefix: "users/"}},
		ErrorLog: func(r *http.Request, err error) { log.Printf("uploads: %s %s: %v", r.Method, r.URL.Path, err) },
	}
	go func() {
		for now := range time.Tick(time.Hour) {
			if n, err := backend.AbortStale(context.Background(), now); n > 0 || err != nil {
				log.Printf("uploads: aborted %d stale uploads: %v", n, err)
			}
		}
	}()

	mux := http.NewServeMux()
	mux.Handle("/uploads/", http.StripPrefix("/uploads", backend))
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", mux))
}
