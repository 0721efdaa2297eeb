// The entry point of the Uppy bundle of the e2e test (uppy_test.go), which
// esbuild bundles with @uppy/core and @uppy/aws-s3, as installed by npm ci
// from package-lock.json, into one script for the test page (uppy.html).
import Uppy from "@uppy/core";
import AwsS3 from "@uppy/aws-s3";

window.Uppy = Uppy;
window.AwsS3 = AwsS3;
