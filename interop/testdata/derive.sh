#!/usr/bin/env bash
# Computes expected.policy_base64, expected.signing_key_hex and
# expected.signature_hex of every vector in aws-sdk-go-v2-fixed-clock.json
# that has an expected.policy_json, using only jq(1), base64(1) and
# openssl(1): base64 of the exact JSON bytes, the SigV4 key chain
#   kDate = HMAC("AWS4"+secret, YYYYMMDD), kRegion, kService ("s3"),
#   kSigning (HMAC(kService, "aws4_request")),
# and HMAC-SHA256(kSigning, base64 text) in hex (AWS: "Calculating a
# Signature" for POST). Nothing here comes from the SDKs or postpolicy.
#
#   ./derive.sh          check the stored values (exit 1 on a difference)
#   ./derive.sh -write   store the computed values
set -euo pipefail
cd "$(dirname "$0")"
file=aws-sdk-go-v2-fixed-clock.json
secret='wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' # AWS's published example secret

hex() { od -An -v -tx1 | tr -d ' \n'; }
mac() { # mac KEYHEX TEXT: HMAC-SHA256 in hex
  printf '%s' "$2" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" -binary | hex
}
signing_key() { # signing_key SECRET YYYYMMDD REGION
  local k
  k=$(printf 'AWS4%s' "$1" | hex)
  for part in "$2" "$3" s3 aws4_request; do k=$(mac "$k" "$part"); done
  printf '%s' "$k"
}

# The tools must first reproduce the AWS documentation's POST example.
ex=../../testdata/aws-s3-sigv4-post-example.json
k=$(signing_key "$(jq -r .secret_access_key $ex)" "$(jq -r .date $ex)" "$(jq -r .region $ex)")
if [ "$(mac "$k" "$(jq -r .policy_base64 $ex)")" != "$(jq -r .expected.signature_hex $ex)" ]; then
  echo "openssl does not reproduce the AWS POST example; stopping" >&2
  exit 1
fi

doc=$(cat "$file")
status=0
for i in $(jq -r '.vectors | to_entries[] | select(.value.expected.policy_json != null) | .key' "$file"); do
  v=$(jq ".vectors[$i]" <<<"$doc")
  id=$(jq -r .id <<<"$v")
  day=$(jq -r '.inputs.signing_time[0:10] | gsub("-"; "")' <<<"$v")
  reg=$(jq -r .inputs.region <<<"$v")
  b64=$(jq -j .expected.policy_json <<<"$v" | base64 -w0)
  key=$(signing_key "$secret" "$day" "$reg")
  sig=$(mac "$key" "$b64")
  published=$(jq -r '.expected.published_signature_hex // empty' <<<"$v")
  if [ -n "$published" ] && [ "$published" != "$sig" ]; then
    echo "$id: computed $sig, but the published signature is $published" >&2
    status=1
  fi
  if [ "${1:-}" = -write ]; then
    doc=$(jq --indent 2 --arg b "$b64" --arg k "$key" --arg s "$sig" \
      ".vectors[$i].expected += {policy_base64: \$b, signing_key_hex: \$k, signature_hex: \$s}" <<<"$doc")
    echo "$id: $sig (written)"
  elif [ "$(jq -r .expected.policy_base64 <<<"$v")" != "$b64" ] || [ "$(jq -r .expected.signature_hex <<<"$v")" != "$sig" ] ||
    [ "$(jq -r .expected.signing_key_hex <<<"$v")" != "$key" ]; then
    echo "$id: stored values differ from the computed ones" >&2
    status=1
  else
    echo "$id: ok ($sig)"
  fi
done
if [ "${1:-}" = -write ]; then
  printf '%s\n' "$doc" >"$file"
fi
exit $status
