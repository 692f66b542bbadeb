#!/usr/bin/env bash
# copy localhost:5000/team/app:1.0 → localhost:5000/team/copy:1.0: the registry requests of a regexplore trace, as curl commands.
#
# Recorded <timestamp> (8 exchanges · 3.0 MB down · 3.0 MB up · <time>).
# Run it against any registry that holds the same content:
#
#     bash THIS_FILE [REGISTRY_URL]
#     REGISTRY_USERNAME=me REGISTRY_PASSWORD=secret bash THIS_FILE http://127.0.0.1:5000
#
# Parameters (environment variables, defaults from the trace):
#     REGISTRY       registry base URL (default http://localhost:5000)
#     REPOSITORY     repository (default team/app)
#     REPOSITORY_2   repository (default team/copy)
#     REFERENCE      the tag to resolve (default 1.0)
#     OUT            where fetched blobs and manifests are written, as blobs/sha256/<hex>
#     SOURCE         a directory holding what is uploaded as blobs/sha256/<hex> (an OCI image layout); default OUT
#
# Credentials come from REGISTRY_USERNAME / REGISTRY_PASSWORD only when the registry asks; they
# and the tokens go to curl through a private temporary file, never on its command line.
# Needs bash, curl and sha256sum (or shasum).
set -euo pipefail

REGISTRY="${1:-${REGISTRY:-http://localhost:5000}}"
REGISTRY="${REGISTRY%/}"
REPOSITORY="${REPOSITORY:-team/app}"
REPOSITORY_2="${REPOSITORY_2:-team/copy}"
REFERENCE="${REFERENCE:-1.0}"
ACCEPT='application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json'
OUT="${OUT:-regexplore-out}"
SOURCE="${SOURCE:-$OUT}"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
HEADERS="$WORK/headers"      # response headers of the last request (curl -D)
AUTH="$WORK/auth"            # "Authorization: …" for the registry (curl -H @file: not sent on to other hosts)
touch "$AUTH" && chmod 600 "$AUTH"
SCHEME=""                    # what the registry asked for in its 401: "", basic or bearer
REALM="" SERVICE=""          # the Bearer challenge's token server and service
TOKEN_SCOPE="-" TOKEN=""     # the last token and the scope it was issued for

fail() { echo "error: $*" >&2; exit 1; }
sha256_of() { if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi; }
header() { tr -d '\r' < "$HEADERS" | { grep -i "^$1:" || true; } | tail -n 1 | sed 's/^[^:]*: *//'; }  # last value
absolute() { case "$1" in http://*|https://*) echo "$1";; /*) echo "${REGISTRY_BASE:-$REGISTRY}$1";; *) echo "$1";; esac; }

basic_credentials() { printf 'Authorization: Basic %s\n' "$(printf '%s:%s' "$REGISTRY_USERNAME" "${REGISTRY_PASSWORD:-}" | base64 | tr -d '\n')"; }

# token SCOPE: ask the realm for a Bearer token (one scope= parameter per scope), with Basic credentials if any.
token() {
  local args=(-G --data-urlencode "service=$SERVICE") scope
  for scope in $1; do args+=(--data-urlencode "scope=$scope"); done
  if [ -n "${REGISTRY_USERNAME:-}" ]; then
    args+=(--data-urlencode "account=$REGISTRY_USERNAME")
    basic_credentials > "$WORK/basic"
    args+=(-H @"$WORK/basic")
  fi
  local body status
  body="$(curl -sS -w '\n%{http_code}' "${args[@]}" "$REALM")"
  status="${body##*$'\n'}"; body="${body%$'\n'*}"
  [ "$status" = 200 ] || fail "the token server refused ($status): check REGISTRY_USERNAME/REGISTRY_PASSWORD"
  TOKEN="$(printf '%s' "$body" | sed -n 's/.*"token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')"
  [ -n "$TOKEN" ] || TOKEN="$(printf '%s' "$body" | sed -n 's/.*"access_token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')"
  [ -n "$TOKEN" ] || fail "no token in the token server's answer"
  TOKEN_SCOPE="$1"
}

# authorize SCOPE: write the credentials the registry asked for into $AUTH.
authorize() {
  case "$SCHEME" in
    basic) basic_credentials > "$AUTH" ;;
    bearer) [ "$TOKEN_SCOPE" = "$1" ] || token "$1"; printf 'Authorization: Bearer %s\n' "$TOKEN" > "$AUTH" ;;
    *) : > "$AUTH" ;;
  esac
}

# call METHOD URL SCOPE OUTFILE [curl options…]: send with credentials; on a 401 read the challenge
# (WWW-Authenticate), get what it asks for and send once more. Sets STATUS; headers in $HEADERS.
call() {
  local method="$1" url="$2" scope="$3" out="$4"; shift 4
  local verb=(-X "$method"); [ "$method" = HEAD ] && verb=(--head)
  authorize "$scope"
  STATUS="$(curl -sS "${verb[@]}" -D "$HEADERS" -o "$out" -w '%{http_code}' -H @"$AUTH" "$@" "$url")"
  if [ "$STATUS" = 401 ] && { [ -z "$SCHEME" ] || [ "$SCHEME" = bearer ]; }; then
    local challenge; challenge="$(header WWW-Authenticate)"
    case "$challenge" in
      [Bb]earer*) SCHEME=bearer
        REALM="$(printf '%s' "$challenge" | sed -n 's/.*realm="\([^"]*\)".*/\1/p')"
        SERVICE="$(printf '%s' "$challenge" | sed -n 's/.*service="\([^"]*\)".*/\1/p')"
        local asked; asked="$(printf '%s' "$challenge" | sed -n 's/.*scope="\([^"]*\)".*/\1/p')"
        TOKEN_SCOPE="-"; scope="${asked:-$scope}" ;;
      [Bb]asic*) SCHEME=basic ;;
      *) return ;;
    esac
    authorize "$scope"
    STATUS="$(curl -sS "${verb[@]}" -D "$HEADERS" -o "$out" -w '%{http_code}' -H @"$AUTH" "$@" "$url")"
  fi
}

expect() {  # expect STATUS… : stop with the registry's error codes otherwise
  local ok
  for ok in "$@"; do [ "$STATUS" = "$ok" ] && return 0; done
  fail "HTTP $STATUS $(grep -o '"code":"[A-Z_]*"' "$WORK/body" 2>/dev/null | tr '\n' ' ')"
}

blob_file() { echo "$1/blobs/${2%%:*}/${2#*:}"; }

# --- the registry API, one function per endpoint ---------------------------------------------

ping() {  # end-1: is this a v2 registry?
  REGISTRY_BASE="$1"; call GET "$1/v2/" "" "$WORK/body"; expect 200
  echo "ok registry $1 ($(header Docker-Distribution-API-Version))"
}

get_manifest() {  # end-3: registry repository reference accept expected-digest
  REGISTRY_BASE="$1"; call GET "$1/v2/$2/manifests/$3" "repository:$2:pull" "$WORK/body" -H "Accept: $4"; expect 200
  local digest="sha256:$(sha256_of "$WORK/body")" served; served="$(header Docker-Content-Digest)"
  [ -z "$served" ] || [ "$served" = "$digest" ] || fail "Docker-Content-Digest says $served, the manifest hashes to $digest"
  case "$3" in sha256:*) [ "$3" = "$digest" ] || fail "asked for $3, got $digest";; esac
  [ -z "$5" ] || [ "$5" = "$digest" ] || echo "note: $2:$3 is $digest now; the trace saw $5"
  mkdir -p "$OUT/blobs/sha256" && cp "$WORK/body" "$(blob_file "$OUT" "$digest")"
  echo "ok manifest $digest ($(wc -c < "$WORK/body" | tr -d ' ') bytes, $(header Content-Type))"
}

head_manifest() {  # end-3 (HEAD): digest and size without the body
  REGISTRY_BASE="$1"; call HEAD "$1/v2/$2/manifests/$3" "repository:$2:pull" /dev/null -H "Accept: $4"; expect 200 404
  if [ "$STATUS" = 200 ]; then echo "ok manifest $2:$3 $(header Docker-Content-Digest) exists"; else echo "ok manifest $2:$3 not there (404)"; fi
}

get_blob() {  # end-2: registry repository digest size — streamed to a file, then verified
  local file; file="$(blob_file "$OUT" "$3")"; mkdir -p "$(dirname "$file")"
  # -L follows a 307 to the CDN; curl does not send our Authorization header to the other host.
  REGISTRY_BASE="$1"; call GET "$1/v2/$2/blobs/$3" "repository:$2:pull" "$file.partial" -L; expect 200
  local got; got="sha256:$(sha256_of "$file.partial")"
  [ "$got" = "$3" ] || { rm -f "$file.partial"; fail "blob $3 hashes to $got"; }
  mv "$file.partial" "$file"
  echo "ok blob $3 ($(wc -c < "$file" | tr -d ' ') bytes) verified"
}

head_blob() {  # end-2 (HEAD)
  REGISTRY_BASE="$1"; call HEAD "$1/v2/$2/blobs/$3" "repository:$2:pull" /dev/null -L; expect 200 404
  if [ "$STATUS" = 200 ]; then echo "ok blob $3 exists ($(header Content-Length) bytes)"; else echo "ok blob $3 not there (404)"; fi
}

upload() {  # end-5/end-6: registry repository digest location [chunk sizes…]
  local registry="$1" repo="$2" digest="$3" location="$4"; shift 4
  local file; file="$(blob_file "$SOURCE" "$digest")"; [ -f "$file" ] || fail "$file is missing: SOURCE must hold the blobs to upload"
  local size offset=0 length; size="$(wc -c < "$file" | tr -d ' ')"
  while [ "$#" -gt 0 ]; do  # each chunk as a PATCH (Content-Range is inclusive, no "bytes "); the PUT sends the rest
    length="$1"; shift
    { tail -c +"$((offset + 1))" "$file" || true; } | head -c "$length" > "$WORK/chunk"  # tail may get SIGPIPE
    call PATCH "$location" "repository:$repo:pull,push" "$WORK/body" --data-binary @"$WORK/chunk" \
      -H "Content-Type: application/octet-stream" -H "Content-Range: $offset-$((offset + length - 1))"; expect 202
    location="$(absolute "$(header Location)")"; offset=$((offset + length))
  done
  tail -c +"$((offset + 1))" "$file" > "$WORK/chunk"
  local range=(); [ "$offset" = 0 ] || range=(-H "Content-Range: $offset-$((size - 1))")
  case "$location" in *\?*) location="$location&digest=$digest";; *) location="$location?digest=$digest";; esac
  call PUT "$location" "repository:$repo:pull,push" "$WORK/body" -T "$WORK/chunk" \
    -H "Content-Type: application/octet-stream" "${range[@]+"${range[@]}"}"; expect 201
  echo "ok blob $digest uploaded ($size bytes)"
}

push_blob() {  # end-2 HEAD, end-4a POST: registry repository digest check-first [chunk sizes…]
  local registry="$1" repo="$2" digest="$3" check="$4"; shift 4
  REGISTRY_BASE="$registry"
  if [ "$check" = 1 ]; then
    call HEAD "$registry/v2/$repo/blobs/$digest" "repository:$repo:pull,push" /dev/null
    if [ "$STATUS" = 200 ]; then echo "ok blob $digest already there: upload skipped"; return; fi
  fi
  call POST "$registry/v2/$repo/blobs/uploads/" "repository:$repo:pull,push" "$WORK/body" -H "Content-Length: 0"; expect 202
  upload "$registry" "$repo" "$digest" "$(absolute "$(header Location)")" "$@"
}

mount_blob() {  # end-11: registry repository digest source — 202 means "not mounted, upload it"
  REGISTRY_BASE="$1"
  call POST "$1/v2/$2/blobs/uploads/?mount=$3&from=$4" "repository:$2:pull,push repository:$4:pull" "$WORK/body" \
    -H "Content-Length: 0"; expect 201 202
  if [ "$STATUS" = 201 ]; then echo "ok blob $3 mounted from $4"; return; fi
  echo "note: mount of $3 refused (202): uploading instead"
  upload "$1" "$2" "$3" "$(absolute "$(header Location)")"
}

push_manifest() {  # end-7: registry repository reference media-type expected-digest, manifest on stdin
  cat > "$WORK/manifest"
  REGISTRY_BASE="$1"; call PUT "$1/v2/$2/manifests/$3" "repository:$2:pull,push" "$WORK/body" \
    --data-binary @"$WORK/manifest" -H "Content-Type: $4"; expect 201
  echo "ok manifest $(header Docker-Content-Digest) pushed as $2:$3"
}

get_list() {  # end-8 tags, end-12 referrers, _catalog: registry repository path query
  local url="$1/v2/$2/$3" scope="repository:$2:pull"
  [ -n "$2" ] || { url="$1/v2/_catalog"; scope="registry:catalog:*"; }
  REGISTRY_BASE="$1"; call GET "$url${4:+?$4}" "$scope" "$WORK/body"; expect 200 404
  echo "ok $STATUS $(head -c 200 "$WORK/body")"
}

delete() {  # end-9/end-10: registry repository manifests|blobs reference
  REGISTRY_BASE="$1"; call DELETE "$1/v2/$2/$3/$4" "repository:$2:delete" "$WORK/body"; expect 202 400 404 405
  echo "ok delete $3/$4: $STATUS"
}

# --- the trace, step by step ---------------------------------------------------------------------

# step 'ping', exchange 1
ping "$REGISTRY"
# step 'fetch manifest', exchange 2
get_manifest "$REGISTRY" "$REPOSITORY" "$REFERENCE" "$ACCEPT" sha256:d0ff5974b6aa52cf562bea5921840c032a860a91a3512f7fe8f768f6bbe005f6
# step 'mount layer 1/3', exchange 3
mount_blob "$REGISTRY" "$REPOSITORY_2" sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2 "$REPOSITORY"
# step 'mount layer 2/3', exchange 4
mount_blob "$REGISTRY" "$REPOSITORY_2" sha256:95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06 "$REPOSITORY"
# step 'fetch layer 3/3', exchange 6
get_blob "$REGISTRY" "$REPOSITORY" sha256:a0e70458d19e37e14d6388030a017c587283e2fb6ef10c0744cad0294c47e8f8 3000000
# step 'mount layer 3/3', exchanges 5, 7
mount_blob "$REGISTRY" "$REPOSITORY_2" sha256:a0e70458d19e37e14d6388030a017c587283e2fb6ef10c0744cad0294c47e8f8 "$REPOSITORY"
# step 'push manifest', exchange 8
printf '%s' '{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": [{"mediaType": "application/octet-stream", "digest": "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2", "size": 1}, {"mediaType": "application/octet-stream", "digest": "sha256:95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06", "size": 1}, {"mediaType": "application/octet-stream", "digest": "sha256:a0e70458d19e37e14d6388030a017c587283e2fb6ef10c0744cad0294c47e8f8", "size": 1}], "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910", "size": 1}}' | push_manifest "$REGISTRY" "$REPOSITORY_2" "$REFERENCE" application/vnd.oci.image.manifest.v1+json sha256:335455aa06bffcd5578c97be16215f13147777d9f003e67d9742268244eea31c
echo "done"
