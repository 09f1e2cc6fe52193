#!/bin/sh
# Records the sandbox's demo site in the mapping service, as make run does:
# the tenant, its Mastodon connection and the link of the gallery
# "Harbour at dawn" to the hashtag #harbouratdawn. Every call is a
# create-or-replace, so running it again changes nothing.
set -eu

mapping=${MAPPING_ADDR:-mapping:9090}
sandbox=${SANDBOX_URL:-http://sandbox:8090}
tenant=9c1e0d7a-5b3f-4c2e-8f10-2d6b7a9e4c01
gallery=2f1c7a3e-8b4d-4e6f-9a10-5c2d7e8f9a01
token=gallerysync-demo-mastodon-token

# The demo account's id: the first "id" of verify_credentials.
account=$(wget -q -O - --header "Authorization: Bearer $token" \
	"$sandbox/mastodon/api/v1/accounts/verify_credentials" |
	tr ',' '\n' | grep -m1 '"id":' | cut -d'"' -f4)
[ -n "$account" ] || { echo "demo-seed: no Mastodon account id from $sandbox" >&2; exit 1; }
credentials=$(printf %s "$token" | base64)

call() {
	grpcurl -plaintext -d "$2" "$mapping" "gallerysync.v1.MappingService/$1" >/dev/null
	echo "demo-seed: $1 done"
}
call PutTenant "{\"tenant\":{\"tenantId\":\"$tenant\",\"state\":\"TENANT_STATE_ACTIVE\",\"displayName\":\"Demo site\"}}"
call PutConnection "{\"connection\":{\"tenantId\":\"$tenant\",\"connectionId\":\"demo-mastodon\",\"platform\":\"mastodon\",\"baseUrl\":\"$sandbox/mastodon\",\"accountId\":\"$account\",\"displayName\":\"@gallerysync_demo\",\"credentials\":\"$credentials\"}}"
call PutLink "{\"link\":{\"tenantId\":\"$tenant\",\"linkId\":\"demo-link\",\"galleryId\":\"$gallery\",\"connectionId\":\"demo-mastodon\",\"albumId\":\"harbouratdawn\",\"state\":\"LINK_STATE_ACTIVE\",\"direction\":\"DIRECTION_ONE_WAY\"}}"
