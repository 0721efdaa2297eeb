#!/usr/bin/env bash
# Recomputes expected.policy_base64 and expected.signature of every case in
# signer.json from its policy_json, with base64(1), jq(1) and openssl(1) only:
# the SigV4 key chain (kDate, kRegion, kService, kSigning) and the HMAC-SHA256
# of the base64 text, as the AWS page "Calculating a Signature" for POST
# describes. It shares no code with the Go package, so the values it writes
# are an independent answer.
#
#   ./derive.sh          check: exit 1 if a stored value differs
#   ./derive.sh -write   rewrite the expected values in signer.json
set -euo pipefail
cd "$(dirname "$0")"

tohex() { od -An -v -tx1 | tr -d ' \n'; }
hmac() { # hmac HEXKEY DATA -> hex
  printf '%s' "$2" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" -binary | tohex
}

# First prove the tool chain on the published AWS POST example.
ex=../aws-s3-sigv4-post-example.json
k=$(printf '%s' "AWS4$(jq -r .secret_access_key $ex)" | tohex)
for part in "$(jq -r .date $ex)" "$(jq -r .region $ex)" s3 aws4_request; do k=$(hmac "$k" "$part"); done
if [ "$(hmac "$k" "$(jq -r .policy_base64 $ex)")" != "$(jq -r .expected.signature_hex $ex)" ]; then
  echo "the openssl key chain does not reproduce the AWS example; not trusting it" >&2
  exit 1
fi

out=$(cat signer.json)
status=0
n=$(jq '.cases | length' signer.json)
for ((i = 0; i < n; i++)); do
  c=$(jq ".cases[$i]" signer.json)
  id=$(jq -r .id <<<"$c")
  secret=$(jq -r .secret_access_key <<<"$c")
  region=$(jq -r .region <<<"$c")
  day=$(jq -r '.signing_time[0:10] | gsub("-"; "")' <<<"$c")
  b64=$(jq -j .policy_json <<<"$c" | base64 -w0)
  k=$(printf '%s' "AWS4$secret" | tohex)
  k=$(hmac "$k" "$day")
  k=$(hmac "$k" "$region")
  k=$(hmac "$k" "s3")
  k=$(hmac "$k" "aws4_request")
  sig=$(hmac "$k" "$b64")
  if [ "${1:-}" = -write ]; then
    out=$(jq --indent 2 --arg b "$b64" --arg s "$sig" --arg k "$k" \
      ".cases[$i].expected = {policy_base64: \$b, signing_key_hex: \$k, signature: \$s}" <<<"$out")
  else
    want_b=$(jq -r .expected.policy_base64 <<<"$c")
    want_s=$(jq -r .expected.signature <<<"$c")
    if [ "$b64" != "$want_b" ] || [ "$sig" != "$want_s" ]; then
      echo "$id: stored values differ from the recomputed ones" >&2
      status=1
    else
      echo "$id: ok ($sig)"
    fi
  fi
done
if [ "${1:-}" = -write ]; then
  printf '%s\n' "$out" >signer.json
fi
exit $status
