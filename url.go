package postpolicy

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/postpolicy/postpolicy/internal/sigv4"
)

// URLStyle chooses how the form's URL names the bucket.
type URLStyle uint8

const (
	// URLStyleAuto, the default: virtual-hosted style on AWS
	// (https://BUCKET.s3.REGION.amazonaws.com/), except for bucket names
	// with dots, which a TLS wildcard certificate cannot cover, which get
	// path style; path style with a custom Endpoint, which is what
	// S3-compatible servers on an address or plain host name expect.
	URLStyleAuto URLStyle = iota
	// URLStylePath puts the bucket in the path: https://HOST/BUCKET.
	URLStylePath
	// URLStyleVirtualHosted puts the bucket in the host name:
	// https://BUCKET.HOST/.
	URLStyleVirtualHosted
)

// bucketURL is the form URL built for a bucket, with the configuration it
// was built from.
type bucketURL struct {
	config      *signerConfig
	bucket, url string
	headJSON    []byte // the form's JSON up to its fields (appendFormHead)
}

// urlCache keeps the form URLs of the last few buckets a Signer signed
// for, so that a backend signing for a few buckets in turn builds each
// URL once. It holds no state that changes what is checked or signed:
// an entry is the function of its configuration and bucket.
type urlCache struct {
	v    [4]atomic.Pointer[bucketURL]
	next atomic.Uint32
}

// get returns the form URL for bucket under cfg, building and keeping it
// when it is not kept.
func (c *urlCache) get(cfg *signerConfig, bucket string) *bucketURL {
	for i := range c.v {
		if u := c.v[i].Load(); u != nil && u.config == cfg && u.bucket == bucket {
			return u
		}
	}
	u := newBucketURL(cfg, bucket)
	c.v[(c.next.Add(1)-1)%uint32(len(c.v))].Store(u)
	return u
}

func newBucketURL(cfg *signerConfig, bucket string) *bucketURL {
	u := &bucketURL{config: cfg, bucket: bucket, url: buildFormURL(cfg.endpoint, cfg.region, bucket, cfg.style)}
	u.headJSON = appendFormHead(nil, u.url)
	return u
}

// buildFormURL returns the URL a form for bucket posts to. Its inputs were
// checked by Signer.checkConfig and the bucket name by the linter.
func buildFormURL(endpoint, region, bucket string, style URLStyle) string {
	if endpoint == "" {
		host := "s3." + region + ".amazonaws.com"
		if strings.HasPrefix(region, "cn-") {
			host += ".cn"
		}
		if style == URLStylePath || (style == URLStyleAuto && strings.Contains(bucket, ".")) {
			return "https://" + host + "/" + bucket
		}
		return "https://" + bucket + "." + host + "/"
	}
	u, _ := parseEndpoint(endpoint)
	base := strings.TrimSuffix(u.EscapedPath(), "/")
	if style == URLStyleVirtualHosted {
		return u.Scheme + "://" + bucket + "." + u.Host + base + "/"
	}
	return u.Scheme + "://" + u.Host + base + "/" + bucket
}

// parseEndpoint parses a Signer's Endpoint. Its errors never quote an
// endpoint holding '@': it may carry a password, in a form url.Parse
// recognises as user info (http://user:pass@host) or not (user:pass@host).
func parseEndpoint(endpoint string) (*url.URL, error) {
	shown := strconv.Quote(endpoint)
	if strings.Contains(endpoint, "@") {
		shown = "(not shown: it holds '@')"
	}
	u, err := url.Parse(endpoint)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: Endpoint is not a URL", ErrSignerConfig)
	case u.User != nil:
		return nil, fmt.Errorf("%w: Endpoint must not carry user info (credentials belong in Credentials)", ErrSignerConfig)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%w: Endpoint %s must start with http:// or https://", ErrSignerConfig, shown)
	case u.Host == "":
		return nil, fmt.Errorf("%w: Endpoint %s has no host", ErrSignerConfig, shown)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("%w: Endpoint %s must not carry a query or a fragment", ErrSignerConfig, shown)
	}
	return u, nil
}

// ObjectURL returns the URL of key in bucket as the Signer's presigned URLs
// address it (its Endpoint and URLStyle), without a query, its path
// URI-encoded once as Signature Version 4 encodes it for S3 (each byte but
// A-Z a-z 0-9 - . _ ~ and '/' as %XY), so that a request sent to it with
// [Signer.SignRequest] is signed for the path it names. key "" gives the
// bucket's URL, ending in '/'. Errors match [ErrSignerConfig], or
// [ErrInvalidPolicy] for a bucket name against S3's rules.
func (s *Signer) ObjectURL(bucket, key string) (string, error) {
	cfg, err := s.checkConfig()
	if err != nil {
		return "", err
	}
	if reason := bucketNameProblem(bucket); reason != "" {
		return "", fmt.Errorf("%w: bucket name %q %s", ErrInvalidPolicy, bucket, reason)
	}
	origin, _, base, ok := s.bucketLocation(cfg, bucket)
	if !ok {
		return "", fmt.Errorf("%w: the URL of bucket %q does not parse", ErrSignerConfig, bucket)
	}
	return origin + string(sigv4.AppendURIEncode(nil, base+"/"+key, true)), nil
}
