#!/usr/bin/env bash
# push localhost:5000/team/app:1.0: the registry requests of a regexplore trace, as curl commands.
#
# Recorded <timestamp> (16 exchanges · 42 B down · 5.0 MB up · <time>).
# Pushes the trace's manifests to REGISTRY/REPOSITORY: each blob a manifest lists is checked with
# HEAD and uploaded from SOURCE only when missing; a manifest already there is not sent again.
#
#     bash THIS_FILE [REGISTRY_URL]
#     REGISTRY_USERNAME=me REGISTRY_PASSWORD=secret bash THIS_FILE http://127.0.0.1:5000
#
# Parameters (environment variables, defaults from the trace):
#     REGISTRY           registry base URL (default http://localhost:5000)
#     REPOSITORY         repository pushed to (default team/app)
#     REFERENCE          the tag pushed (default 1.0)
#     CHUNK_SIZE         bytes per PATCH; 0 = one PUT per blob (default 0)
#     OUT                where fetched blobs and manifests are written, as blobs/sha256/<hex>
#     SOURCE             a directory holding what is uploaded as blobs/sha256/<hex> (an OCI image layout)
#
# Credentials come from REGISTRY_USERNAME/REGISTRY_PASSWORD only when a registry asks. They
# go to that registry and to the token realm its own challenge names (Basic to a realm only over https or
# loopback), never to another host a redirect or Location names, and reach curl through a private
# temporary file, never its command line. Needs bash, curl, awk and sha256sum (or shasum).
set -euo pipefail

[ -z "${1:-}" ] || REGISTRY="$1"
[ -n "${REGISTRY:-}" ] || REGISTRY=http://localhost:5000
REGISTRY="${REGISTRY%/}"
[ -n "${REPOSITORY:-}" ] || REPOSITORY=team/app
[ -n "${REFERENCE:-}" ] || REFERENCE=1.0
[ -n "${CHUNK_SIZE:-}" ] || CHUNK_SIZE=0
ACCEPT='application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json'
[ -n "${OUT:-}" ] || OUT=regexplore-out
[ -n "${SOURCE:-}" ] || SOURCE=.

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
CURL=(curl -sS --proto =http,https --proto-redir =http,https)
HEADERS="$WORK/headers"      # response headers of the last request (curl -D)

say() { printf '%s\n' "$*" | tr -d '\000-\010\013-\037\177'; }  # registry text reaches the terminal without controls
fail() { say "error: $*" >&2; exit 1; }
sha256_of() { if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi; }
header() { tr -d '\r' < "$HEADERS" | { grep -i "^$1:" || true; } | tail -n 1 | sed 's/^[^:]*: *//'; }  # last value
origin() { printf '%s\n' "$1" | sed -E 's#^([A-Za-z][A-Za-z0-9+.-]*://[^/?#]*).*$#\1#' | tr 'A-Z' 'a-z'; }
absolute() { case "$1" in http://*|https://*) echo "$1";; /*) echo "$BASE$1";; *) fail "unusable Location: $1";; esac; }
valid_digest() { [[ "$1" =~ ^sha256:[a-f0-9]{64}$ ]] || fail "not a sha256 digest: $1"; }
blob_file() { echo "$1/blobs/sha256/${2#sha256:}"; }

# --- JSON without jq: each scalar of a document as "path<TAB>value" (.layers[0].digest) ------------

json_flat() {
  awk '{ s = s $0 "\n" }
  END {
    n = length(s); i = 1; d = 0
    while (i <= n) {
      c = substr(s, i, 1)
      if (c == "{" || c == "[") { d++; t[d] = c; k[d] = ""; x[d] = 0; want[d] = (c == "{"); i++; continue }
      if (c == "}" || c == "]") { d--; i++; continue }
      if (c == ",") { if (t[d] == "[") x[d]++; else want[d] = 1; i++; continue }
      if (c == ":") { want[d] = 0; i++; continue }
      if (c == " " || c == "\t" || c == "\r" || c == "\n") { i++; continue }
      if (c == "\"") {
        v = ""; j = i + 1
        while (j <= n) { e = substr(s, j, 1); if (e == "\\") { v = v substr(s, j, 2); j += 2; continue }; if (e == "\"") break; v = v e; j++ }
        i = j + 1
      } else {
        j = i; while (j <= n && substr(s, j, 1) !~ /[],} \t\r\n]/) j++
        v = substr(s, i, j - i); i = j
      }
      if (t[d] == "{" && want[d]) { k[d] = v; continue }
      p = ""; for (l = 1; l <= d; l++) p = p (t[l] == "{" ? "." k[l] : "[" x[l] "]")
      gsub(/[\t\r\n]/, " ", v); print p "\t" v
    }
  }' "$1"
}
json_get() { awk -F'\t' -v want="$2" '$1 == want { print $2; exit }' "$1"; }
blobs_of() { awk -F'\t' '$1 == ".config.digest" || $1 ~ /^\.layers\[[0-9]+\]\.digest$/ { print $2 }' "$1"; }
is_index() { case "$(json_get "$1.flat" .mediaType) $(cat "$1.type")" in *image.index*|*manifest.list*) return 0;; esac; [ -n "$(json_get "$1.flat" '.manifests[0].digest')" ]; }

# --- authentication: per side (REGISTRY, SOURCE, DEST), each with its own credentials and tokens ---

# side NAME BASE: the requests that follow go to BASE, answered with NAME_USERNAME/NAME_PASSWORD.
side() {
  SIDE="$1"; BASE="$2"
  STATE="$WORK/$1-$(printf '%s' "$2" | cksum | cut -d' ' -f1)"
  [ -d "$STATE" ] || { mkdir -p "$STATE"; : > "$STATE/auth"; chmod 600 "$STATE/auth"; }
}
state() { cat "$STATE/$1" 2>/dev/null || true; }
username() { local var="${SIDE}_USERNAME"; printf '%s' "${!var:-}"; }
basic_credentials() {
  local var="${SIDE}_PASSWORD"
  printf 'Authorization: Basic %s\n' "$(printf '%s:%s' "$(username)" "${!var:-}" | base64 | tr -d '\n')"
}
basic_allowed() {  # Basic credentials travel to a token realm only over https or on loopback
  local host; host="$(origin "$1")"; host="${host#*://}"
  case "$1" in https://*) return 0;; esac
  [[ "$host" =~ ^(localhost|127\.[0-9]+\.[0-9]+\.[0-9]+|\[::1\])(:[0-9]+)?$ ]]
}

# token SCOPE: ask this side's realm for a Bearer token (one scope= per scope), with Basic credentials if any.
token() {
  local realm service scopes scope body status found
  realm="$(state realm)"; service="$(state service)"
  local args=(-G --data-urlencode "service=$service")
  read -r -a scopes <<< "$1"
  for scope in ${scopes[@]+"${scopes[@]}"}; do args+=(--data-urlencode "scope=$scope"); done
  if [ -n "$(username)" ]; then
    basic_allowed "$realm" || fail "not sending ${SIDE}_USERNAME's password to $realm: a token realm needs https or loopback"
    args+=(--data-urlencode "account=$(username)")
    basic_credentials > "$STATE/basic"; args+=(-H @"$STATE/basic")
  fi
  body="$("${CURL[@]}" -w '\n%{http_code}' "${args[@]}" "$realm")"
  status="${body##*$'\n'}"; body="${body%$'\n'*}"
  [ "$status" = 200 ] || fail "the token server refused ($status): check ${SIDE}_USERNAME/${SIDE}_PASSWORD"
  found="$(printf '%s' "$body" | sed -n 's/.*"token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')"
  [ -n "$found" ] || found="$(printf '%s' "$body" | sed -n 's/.*"access_token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')"
  [[ "$found" =~ ^[A-Za-z0-9._~+/=-]+$ ]] || fail "no usable token in the token server's answer"
  printf '%s' "$found" > "$STATE/token"; printf '%s' "$1" > "$STATE/token_scope"
}

# authorize SCOPE URL: write this side's credentials into its auth file, only for a URL of its registry.
authorize() {
  if [ "$(origin "$2")" != "$(origin "$BASE")" ]; then : > "$STATE/auth"; return; fi
  case "$(state scheme)" in
    basic) if [ -n "$(username)" ]; then basic_credentials > "$STATE/auth"; else : > "$STATE/auth"; fi ;;
    bearer) [ "$(state token_scope)" = "$1" ] || token "$1"; printf 'Authorization: Bearer %s\n' "$(state token)" > "$STATE/auth" ;;
    *) : > "$STATE/auth" ;;
  esac
}

send() {  # send METHOD URL OUTFILE [curl options…]: sets STATUS and FINAL (the URL that answered)
  local method="$1" url="$2" out="$3"; shift 3
  local verb=(-X "$method") result; [ "$method" = HEAD ] && verb=(--head)
  result="$("${CURL[@]}" "${verb[@]}" -D "$HEADERS" -o "$out" -w '%{http_code} %{url_effective}' -H @"$STATE/auth" "$@" "$url")" ||
    fail "$method $url: curl stopped (exit $?; 63: a manifest over 4 MiB)"
  STATUS="${result%% *}"; FINAL="${result#* }"
}

# call METHOD URL SCOPE OUTFILE [curl options…]: send with this side's credentials; on a 401 FROM THIS
# REGISTRY read its challenge, get what it asks for and send once more. A 401 from any other host
# (a redirect's storage host) is answered with nothing. Sets STATUS; headers in $HEADERS.
call() {
  local method="$1" url="$2" scope="$3" out="$4"; shift 4
  authorize "$scope" "$url"
  send "$method" "$url" "$out" "$@"
  [ "$STATUS" = 401 ] && [ "$(origin "$FINAL")" = "$(origin "$BASE")" ] && [ "$(state scheme)" != basic ] || return 0
  local challenge asked; challenge="$(header WWW-Authenticate)"
  case "$challenge" in
    [Bb]earer*) printf bearer > "$STATE/scheme"; printf -- - > "$STATE/token_scope"
      printf '%s' "$challenge" | sed -n 's/.*realm="\([^"]*\)".*/\1/p' > "$STATE/realm"
      printf '%s' "$challenge" | sed -n 's/.*service="\([^"]*\)".*/\1/p' > "$STATE/service"
      asked="$(printf '%s' "$challenge" | sed -n 's/.*scope="\([^"]*\)".*/\1/p')"; scope="${asked:-$scope}" ;;
    [Bb]asic*) printf basic > "$STATE/scheme" ;;
    *) return 0 ;;
  esac
  authorize "$scope" "$url"
  send "$method" "$url" "$out" "$@"
}

expect() {  # expect STATUS… : stop with the registry's error codes otherwise
  local ok
  for ok in "$@"; do [ "$STATUS" = "$ok" ] && return 0; done
  fail "HTTP $STATUS $(grep -o '"code":"[A-Z_]*"' "$WORK/body" 2>/dev/null | tr '\n' ' ')"
}

# --- the registry API on the current side, one function per endpoint ------------------------------

ping_registry() {  # end-1: is this a v2 registry?
  call GET "$BASE/v2/" "" "$WORK/body"; expect 200
  say "ok registry $BASE ($(header Docker-Distribution-API-Version))"
}

fetch_manifest() {  # end-3: repository reference file [keep] — FILE, FILE.type and FILE.flat; keep: also into OUT
  call GET "$BASE/v2/$1/manifests/$2" "repository:$1:pull" "$3" -H "Accept: $ACCEPT" --max-filesize 4194304; expect 200
  local digest="sha256:$(sha256_of "$3")" served; served="$(header Docker-Content-Digest)"
  [ -z "$served" ] || [ "$served" = "$digest" ] || fail "Docker-Content-Digest says $served, the manifest hashes to $digest"
  case "$2" in sha256:*) [ "$2" = "$digest" ] || fail "asked for $2, got $digest";; esac
  header Content-Type > "$3.type"; json_flat "$3" > "$3.flat"; MANIFEST_DIGEST="$digest"
  if [ -n "${4:-}" ]; then mkdir -p "$OUT/blobs/sha256" && cp "$3" "$(blob_file "$OUT" "$digest")"; fi
  say "ok manifest $digest ($(wc -c < "$3" | tr -d ' ') bytes, $(cat "$3.type"))"
}

pick_platform() {  # index-file os/arch[/variant]: the digest of the entry whose platform fields match
  local os arch variant i=0 digest
  IFS=/ read -r os arch variant <<< "$2"
  while digest="$(json_get "$1.flat" ".manifests[$i].digest")"; [ -n "$digest" ]; do
    if [ "$(json_get "$1.flat" ".manifests[$i].platform.os")" = "$os" ] &&
       [ "$(json_get "$1.flat" ".manifests[$i].platform.architecture")" = "$arch" ] &&
       { [ -z "$variant" ] || [ "$(json_get "$1.flat" ".manifests[$i].platform.variant")" = "$variant" ]; }; then
      valid_digest "$digest"; echo "$digest"; return
    fi
    i=$((i + 1))
  done
  fail "the index has no manifest for platform $2: set PLATFORM"
}

fetch_blob() {  # end-2: repository digest file — streamed, then verified
  valid_digest "$2"; mkdir -p "$(dirname "$3")"
  # -L follows a 307 to storage; curl does not send our Authorization header to another host.
  call GET "$BASE/v2/$1/blobs/$2" "repository:$1:pull" "$3.partial" -L; expect 200
  local got; got="sha256:$(sha256_of "$3.partial")"
  [ "$got" = "$2" ] || { rm -f "$3.partial"; fail "blob $2 hashes to $got"; }
  mv "$3.partial" "$3"
  say "ok blob $2 ($(wc -c < "$3" | tr -d ' ') bytes) verified"
}

blob_there() {  # end-2 (HEAD): repository digest — true when the registry has it
  call HEAD "$BASE/v2/$1/blobs/$2" "repository:$1:pull,push" /dev/null; [ "$STATUS" = 200 ]
}

open_upload() {  # end-4a: repository — sets LOCATION
  call POST "$BASE/v2/$1/blobs/uploads/" "repository:$1:pull,push" "$WORK/body" -H "Content-Length: 0"; expect 202
  LOCATION="$(absolute "$(header Location)")"
}

upload() {  # end-5/end-6: repository digest location file — PATCH CHUNK_SIZE chunks, PUT the rest with ?digest=
  local repo="$1" digest="$2" location="$3" file="$4"
  [ -f "$file" ] || fail "$file is missing: SOURCE must hold the blobs to upload"
  local size offset=0 length; size="$(wc -c < "$file" | tr -d ' ')"
  while [ "$CHUNK_SIZE" -gt 0 ] && [ $((size - offset)) -gt "$CHUNK_SIZE" ]; do  # Content-Range is inclusive, no "bytes "
    length="$CHUNK_SIZE"
    { tail -c +"$((offset + 1))" "$file" || true; } | head -c "$length" > "$WORK/chunk"  # tail may get SIGPIPE
    call PATCH "$location" "repository:$repo:pull,push" "$WORK/body" --data-binary @"$WORK/chunk" \
      -H "Content-Type: application/octet-stream" -H "Content-Range: $offset-$((offset + length - 1))"; expect 202
    location="$(absolute "$(header Location)")"; offset=$((offset + length))
  done
  tail -c +"$((offset + 1))" "$file" > "$WORK/chunk"
  local range=(); [ "$offset" = 0 ] || range=(-H "Content-Range: $offset-$((size - 1))")
  case "$location" in *\?*) location="$location&digest=$digest";; *) location="$location?digest=$digest";; esac
  call PUT "$location" "repository:$repo:pull,push" "$WORK/body" -T "$WORK/chunk" \
    -H "Content-Type: application/octet-stream" ${range[@]+"${range[@]}"}; expect 201
  say "ok blob $digest uploaded ($size bytes)"
}

put_manifest() {  # end-7: repository reference media-type file — skipped when the registry has these bytes there
  local digest="sha256:$(sha256_of "$4")"
  call HEAD "$BASE/v2/$1/manifests/$2" "repository:$1:pull,push" /dev/null -H "Accept: $3"
  if [ "$STATUS" = 200 ] && [ "$(header Docker-Content-Digest)" = "$digest" ]; then
    say "ok manifest $digest already there as $1:$2: skipped"; return
  fi
  call PUT "$BASE/v2/$1/manifests/$2" "repository:$1:pull,push" "$WORK/body" \
    --data-binary @"$4" -H "Content-Type: $3"; expect 201
  say "ok manifest $(header Docker-Content-Digest) pushed as $1:$2"
}

push_blob() {  # repository digest: HEAD first; upload from SOURCE only when missing
  valid_digest "$2"
  if blob_there "$1" "$2"; then say "ok blob $2 already there: upload skipped"; return; fi
  open_upload "$1"; upload "$1" "$2" "$LOCATION" "$(blob_file "$SOURCE" "$2")"
}

# --- push: for each manifest, its missing blobs first, then the manifest ------------------------

push_manifest() {  # reference media-type digest — the manifest text on stdin (empty: read SOURCE's blob of digest)
  cat > "$WORK/manifest"
  if [ ! -s "$WORK/manifest" ]; then valid_digest "$3"; cp "$(blob_file "$SOURCE" "$3")" "$WORK/manifest"; fi
  json_flat "$WORK/manifest" > "$WORK/manifest.flat"
  local blobs=() digest; while IFS= read -r digest; do blobs+=("$digest"); done < <(blobs_of "$WORK/manifest.flat")
  for digest in ${blobs[@]+"${blobs[@]}"}; do push_blob "$REPOSITORY" "$digest"; done
  put_manifest "$REPOSITORY" "$1" "$2" "$WORK/manifest"
}

side REGISTRY "$REGISTRY"
ping_registry
# step 'push manifest', exchange 16
printf '%s' '{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": [{"mediaType": "application/octet-stream", "digest": "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2", "size": 1}, {"mediaType": "application/octet-stream", "digest": "sha256:95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06", "size": 1}, {"mediaType": "application/octet-stream", "digest": "sha256:a0e70458d19e37e14d6388030a017c587283e2fb6ef10c0744cad0294c47e8f8", "size": 1}], "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910", "size": 1}}' | push_manifest "$REFERENCE" application/vnd.oci.image.manifest.v1+json ''
say "done"
