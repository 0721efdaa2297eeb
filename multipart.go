package postpolicy

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/postpolicy/postpolicy/internal/sigv4"
)

// This file presigns the parts of a multipart upload ("Uploading and
// copying objects using multipart upload",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html):
// a backend starts the upload and completes it with header-signed calls
// (SignRequest), and hands the browser one presigned PUT per part.

// S3's limits for multipart uploads ("Amazon S3 multipart upload limits",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html).
const (
	// MaxParts is the most parts one upload may have.
	MaxParts = 10000
	// MinPartSize is the least size of every part but the last: 5 MiB.
	MinPartSize = 5 << 20
	// MaxPartSize is the most a part may hold: 5 GiB.
	MaxPartSize = 5 << 30
)

// PresignUploadPart presigns the PUT of part partNumber (1 to [MaxParts])
// of the multipart upload uploadID of key in bucket ("UploadPart",
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html),
// valid until expiration (at most 7 days after the signing time). The part
// must hold exactly size bytes (1 to [MaxPartSize]): Content-Length is
// signed, so S3 refuses a part of any other size and the upload cannot
// grow past the total the backend allowed. The key and the expiration are
// checked as [Signer.PresignPut] checks them; a part number, upload id or
// size out of range is an error matching [ErrInvalidPolicy].
func (s *Signer) PresignUploadPart(ctx context.Context, bucket, key, uploadID string, partNumber int, size int64, expiration time.Time) (*Presigned, error) {
	switch {
	case partNumber < 1 || partNumber > MaxParts:
		return nil, fmt.Errorf("%w: part number %d is not between 1 and %d", ErrInvalidPolicy, partNumber, MaxParts)
	case uploadID == "":
		return nil, fmt.Errorf("%w: the upload id is empty", ErrInvalidPolicy)
	case size < 1 || size > MaxPartSize:
		return nil, fmt.Errorf("%w: part size %d is not between 1 and %d bytes", ErrInvalidPolicy, size, MaxPartSize)
	}
	query := []sigv4.Param{
		{Name: "partNumber", Value: strconv.Itoa(partNumber)},
		{Name: "uploadId", Value: uploadID},
	}
	return s.presign(ctx, "PUT", Policy{Expiration: expiration, Conditions: []Condition{
		Bucket(bucket), Eq("key", key), ContentLengthRange(size, size),
	}}, query)
}
