package s3multipart

import (
	"crypto/rand"
	"errors"
	"fmt"
	"mime"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/postpolicy/postpolicy"
)

// S3's limits ("Amazon S3 multipart upload limits",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html), and
// this package's defaults.
const (
	// MaxObjectSize is the largest object S3 stores: 5 TiB.
	MaxObjectSize = 5 << 40
	// MaxMetadataSize is the most user-defined metadata an object may
	// carry: the bytes of the names and values, 2 KB ("Working with object
	// metadata", User-defined object metadata,
	// https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html).
	MaxMetadataSize = 2 << 10
	// DefaultURLLifetime is how long a signed part URL or upload form
	// stays valid when Rules.URLLifetime is 0.
	DefaultURLLifetime = 15 * time.Minute
	// DefaultUploadLifetime is how long an upload may stay incomplete
	// when Backend.UploadLifetime is 0.
	DefaultUploadLifetime = 24 * time.Hour
	// DefaultContentType is the type of a file whose type is not given,
	// as Uppy sends it for a file the browser has no type for.
	DefaultContentType = "application/octet-stream"

	// uppyMinChunkSize is Uppy's MIN_CHUNK_SIZE (@uppy/aws-s3 6.3.1,
	// src/S3Uploader.ts): it never cuts parts smaller, whatever
	// getChunkSize returns.
	uppyMinChunkSize = 5 << 20
	// maxKeyLen is S3's limit on a key's length in bytes.
	maxKeyLen = 1024
	// maxNameLen is the most bytes of a file's name kept in its key.
	maxNameLen = 255
	// idLen is the length of the unique segment of a key
	// (crypto/rand.Text) and the '/' after it.
	idLen = 26 + 1
	// maxPrefixLen leaves room in a key for the unique segment and a
	// name of 64 bytes.
	maxPrefixLen = maxKeyLen - idLen - 64
)

// ErrRules is matched by the errors of Rules that cannot be applied: a
// configuration mistake of the backend, answered 500 with no details
// (ErrorLog receives them).
var ErrRules = errors.New("s3multipart: invalid rules")

// Rules are what one user may upload: the backend decides them per
// request (Backend.Rules), typically from the session, and every call is
// checked against them. The zero values of the optional fields are S3's
// limits and this package's defaults.
type Rules struct {
	// Bucket is the bucket uploads go to. Required.
	Bucket string

	// KeyPrefix scopes the user's uploads, for example "users/42/": every
	// object is stored under KeyPrefix + ID + "/" + NAME (see [KeyName]),
	// and every call naming a key outside it is refused with 403.
	// Required: a prefix per user is what keeps users apart. End it with
	// '/', so that no user's prefix is the start of another's ("users/4"
	// is the start of "users/42/").
	KeyPrefix string

	// ContentTypes are the accepted types of files: exact types
	// ("application/pdf") and prefixes ending in "/" ("image/"), compared
	// in lower case. Empty accepts any well-formed type. The type is
	// checked when the upload starts and stored with the object: S3 keeps
	// the Content-Type of CreateMultipartUpload
	// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html),
	// and a form upload signs it as an exact field.
	ContentTypes []string

	// MaxSize is the largest file accepted, in bytes, at most
	// [MaxObjectSize] (5 TiB, S3's largest object). Required.
	MaxSize int64

	// PartSize is the size of every part but the last. 0, the default,
	// cuts a file of size bytes as Uppy's AwsS3 plugin does when the page
	// sets no getChunkSize: parts of ceil(size/10000) bytes, at least
	// 5 MiB. A fixed PartSize (at least MinPartSize, at most
	// postpolicy.MaxPartSize) must be what the page's getChunkSize returns
	// for every file, and at least 5 MiB for Uppy, which never cuts
	// smaller parts. See the package documentation.
	PartSize int64

	// MinPartSize is the least PartSize accepted: 0 means
	// postpolicy.MinPartSize, 5 MiB, below which S3 refuses to complete
	// an upload (EntityTooSmall). Lower it only for a store that accepts
	// smaller parts (receiver.Handler.MinPartSize, postpolicytest), with
	// clients other than Uppy.
	MinPartSize int64

	// MaxParts is the most parts an upload may have: 0 means
	// postpolicy.MaxParts, 10,000, S3's limit. A file that would need
	// more parts of PartSize is refused.
	MaxParts int

	// Metadata are the names of the file metadata stored with the object
	// as x-amz-meta-NAME (lower case): from Uppy's metadata object (the
	// file's meta fields: name, type, relativePath and those the page
	// sets) or the metadata query parameters of a form request. Others
	// are dropped; none by default. Values that are not printable ASCII
	// are stored RFC 2047-encoded ("=?utf-8?q?…?="), as S3 expects
	// non-ASCII metadata; together, names and values may not exceed
	// [MaxMetadataSize].
	Metadata []string

	// URLLifetime is how long a signed part URL or upload form stays
	// valid: 0 means [DefaultURLLifetime], 15 minutes; at most 7 days.
	// A part URL never outlives its upload (Backend.UploadLifetime).
	URLLifetime time.Duration
}

// check reports what makes r unusable, wrapping ErrRules.
func (r *Rules) check() error {
	if r == nil {
		return fmt.Errorf("%w: no Rules", ErrRules)
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if r.Bucket == "" {
		add("Bucket is empty")
	}
	switch {
	case r.KeyPrefix == "":
		add("KeyPrefix is empty: give each user a prefix of their own")
	case !utf8.ValidString(r.KeyPrefix):
		add("KeyPrefix is not valid UTF-8")
	case len(r.KeyPrefix) > maxPrefixLen:
		add("KeyPrefix is %d bytes long, over %d: keys are at most %d bytes", len(r.KeyPrefix), maxPrefixLen, maxKeyLen)
	}
	if r.MaxSize < 1 || r.MaxSize > MaxObjectSize {
		add("MaxSize %d is not between 1 and %d bytes (5 TiB)", r.MaxSize, int64(MaxObjectSize))
	}
	if r.MinPartSize < 0 || r.MinPartSize > postpolicy.MaxPartSize {
		add("MinPartSize %d is not between 0 and %d bytes", r.MinPartSize, int64(postpolicy.MaxPartSize))
	}
	if r.PartSize != 0 && (r.PartSize < r.minPartSize() || r.PartSize > postpolicy.MaxPartSize) {
		add("PartSize %d is not between MinPartSize (%d) and %d bytes", r.PartSize, r.minPartSize(), int64(postpolicy.MaxPartSize))
	}
	if r.MaxParts < 0 || r.MaxParts > postpolicy.MaxParts {
		add("MaxParts %d is not between 0 and %d", r.MaxParts, postpolicy.MaxParts)
	}
	if r.URLLifetime < 0 || r.URLLifetime > 7*24*time.Hour {
		add("URLLifetime %v is not between 0 and 7 days", r.URLLifetime)
	}
	for _, ct := range r.ContentTypes {
		typ, sub, ok := strings.Cut(ct, "/")
		if !ok || !mimeToken(typ) || sub != "" && !mimeToken(sub) {
			add("ContentTypes entry %q is neither a type (image/png) nor a prefix (image/)", ct)
		}
	}
	for _, name := range r.Metadata {
		if !headerToken(name) {
			add("Metadata name %q cannot be part of a header name", name)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrRules, strings.Join(problems, "; "))
	}
	return nil
}

func (r *Rules) minPartSize() int64 {
	if r.MinPartSize == 0 {
		return postpolicy.MinPartSize
	}
	return r.MinPartSize
}

func (r *Rules) maxParts() int {
	if r.MaxParts == 0 {
		return postpolicy.MaxParts
	}
	return r.MaxParts
}

func (r *Rules) urlLifetime() time.Duration {
	if r.URLLifetime == 0 {
		return DefaultURLLifetime
	}
	return r.URLLifetime
}

// PartSizeFor returns the size of every part but the last of a file of
// size bytes under r: PartSize or, when it is 0, Uppy's own choice
// without getChunkSize (@uppy/aws-s3 6.3.1, S3Uploader: ceil(size/10000),
// at least its MIN_CHUNK_SIZE of 5 MiB). A file of at most that size is
// one part.
func (r *Rules) PartSizeFor(size int64) int64 {
	if r.PartSize != 0 {
		return r.PartSize
	}
	return max(ceilDiv(size, postpolicy.MaxParts), uppyMinChunkSize)
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// checkSize refuses a file of size bytes that r does not accept, and
// returns its part size and number of parts.
func (r *Rules) checkSize(size int64) (partSize int64, parts int, err error) {
	if err := r.checkTotal(size); err != nil {
		return 0, 0, err
	}
	partSize = r.PartSizeFor(size)
	n := ceilDiv(size, partSize)
	if n > int64(r.maxParts()) {
		return 0, 0, refuse(400, "the file is %s: in parts of %s it would need %d parts, over the limit of %d parts (at most %s)",
			sizeText(size), sizeText(partSize), n, r.maxParts(), sizeText(partSize*int64(r.maxParts())))
	}
	return partSize, int(n), nil
}

// checkTotal refuses a file of size bytes that is empty, of unknown size
// (negative) or over MaxSize.
func (r *Rules) checkTotal(size int64) error {
	switch {
	case size < 0:
		return refuse(400, "the file's size is unknown: send it as size (or metadata.size, which Uppy sends after uppy.setFileMeta(id, {size: file.size}))")
	case size == 0:
		return refuse(400, "the file is empty: there is nothing to upload")
	case size > r.MaxSize:
		return refuse(400, "the file is %s, over the limit of %s", sizeText(size), sizeText(r.MaxSize))
	}
	return nil
}

// sizeText writes n bytes as a person reads it: "20 MiB (20971520 bytes)".
func sizeText(n int64) string {
	units := []string{"KiB", "MiB", "GiB", "TiB"}
	unit, v := "", float64(n)
	for _, u := range units {
		if v < 1024 {
			break
		}
		v /= 1024
		unit = u
	}
	if unit == "" {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%.4g %s (%d bytes)", v, unit, n)
}

// contentType returns the type of a file, ct in lower case
// ([DefaultContentType] when empty), or the refusal of a type r does not
// accept.
func (r *Rules) contentType(ct string) (string, error) {
	if ct == "" {
		ct = DefaultContentType
	}
	ct = strings.ToLower(ct)
	typ, sub, ok := strings.Cut(ct, "/")
	if !ok || !mimeToken(typ) || !mimeToken(sub) {
		return "", refuse(400, "%q is not a content type such as image/png (without parameters)", ct)
	}
	if len(r.ContentTypes) == 0 {
		return ct, nil
	}
	for _, allowed := range r.ContentTypes {
		allowed = strings.ToLower(allowed)
		if ct == allowed || strings.HasSuffix(allowed, "/") && strings.HasPrefix(ct, allowed) {
			return ct, nil
		}
	}
	return "", refuse(400, "files of type %s are not accepted here; accepted: %s", ct, acceptedText(r.ContentTypes))
}

// acceptedText lists accepted types as "image/*, application/pdf".
func acceptedText(types []string) string {
	out := make([]string, len(types))
	for i, t := range types {
		if strings.HasSuffix(t, "/") {
			t += "*"
		}
		out[i] = t
	}
	return strings.Join(out, ", ")
}

// mimeToken reports whether s is a name of a MIME type or subtype, as
// RFC 6838 restricts them: letters, digits and !#$&-^_.+, at most 127.
func mimeToken(s string) bool {
	if s == "" || len(s) > 127 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&^_.+-", c) >= 0) {
			return false
		}
	}
	return true
}

// headerToken reports whether s can follow x-amz-meta- in a header name:
// an RFC 9110 token.
func headerToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// metadata returns the fields of meta that r allows, as S3 stores them:
// names in lower case (x-amz-meta- is the caller's to add), in the order
// of r.Metadata, values that are not printable ASCII RFC 2047-encoded.
// Values that are empty are dropped.
func (r *Rules) metadata(meta map[string]string) ([]postpolicy.Field, error) {
	var out []postpolicy.Field
	total := 0
	for _, name := range r.Metadata {
		v, ok := meta[name]
		if !ok || v == "" {
			continue
		}
		if !utf8.ValidString(v) {
			return nil, refuse(400, "metadata %s is not valid UTF-8", name)
		}
		v = mime.QEncoding.Encode("utf-8", v)
		lower := strings.ToLower(name)
		total += len(lower) + len(v)
		out = append(out, postpolicy.Field{Name: lower, Value: v})
	}
	if total > MaxMetadataSize {
		return nil, refuse(400, "the metadata is %d bytes, over S3's limit of %d", total, MaxMetadataSize)
	}
	return out, nil
}

// KeyName returns the key a file named filename is stored under:
// prefix + ID + "/" + the name made safe, where ID is 26 random
// characters (128 bits, crypto/rand.Text: A-Z and 2-7), so that two
// uploads of the same name never collide and no one can guess a key.
// The name is the last element of filename, after any '/' or '\'
// (browsers send a bare name; a path would let a name choose the
// prefix); control and format characters (Unicode Cc and Cf, among
// them bidirectional overrides that disguise an extension), line and
// paragraph separators and invalid UTF-8 become '_'; "${" becomes "_{"
// (S3 replaces ${filename} in a form's key); "", "." and ".." become
// "file"; a name over 255 bytes, or over what S3's 1,024-byte keys leave
// after the prefix, is cut, keeping its extension.
func KeyName(prefix, filename string) string {
	return prefix + rand.Text() + "/" + safeName(filename, maxKeyLen-len(prefix)-idLen)
}

// safeName returns filename's last element, made safe as KeyName says, in
// at most limit bytes.
func safeName(filename string, limit int) string {
	if i := strings.LastIndexAny(filename, `/\`); i >= 0 {
		filename = filename[i+1:]
	}
	var b strings.Builder
	for len(filename) > 0 {
		c, size := utf8.DecodeRuneInString(filename)
		filename = filename[size:]
		switch {
		case c == utf8.RuneError && size <= 1,
			unicode.Is(unicode.Cc, c), unicode.Is(unicode.Cf, c),
			unicode.Is(unicode.Zl, c), unicode.Is(unicode.Zp, c):
			b.WriteByte('_')
		case c == '$' && strings.HasPrefix(filename, "{"):
			b.WriteByte('_')
		default:
			b.WriteRune(c)
		}
	}
	name := b.String()
	if name == "" || name == "." || name == ".." {
		name = "file"
	}
	// A name of 16 bytes at least, even when the prefix leaves less room
	// (the Rules refuse such a prefix).
	limit = max(min(limit, maxNameLen), 16)
	if len(name) <= limit {
		return name
	}
	ext := path.Ext(name)
	if len(ext) > 16 || len(ext) >= limit {
		ext = ""
	}
	base := name[:limit-len(ext)]
	for len(base) > 0 && !utf8.ValidString(base) {
		base = base[:len(base)-1] // cut at a rune boundary
	}
	return base + ext
}
