// Package bothways holds the end-to-end tests of every platform adapter in
// both directions, run over the whole system in one process (stack.Start:
// embedded NATS JetStream, the Redis-backed mapping service, the sandbox's
// Wix and platform emulators, the writers and the watchers).
//
// For each adapter (Mastodon, Pinterest and AT Protocol on the sandbox's
// emulators, and AT Protocol on a real PDS behind a counting proxy) a new
// Wix gallery is linked two-way to a new album. The site owner then
// creates, renames, reorders and deletes gallery items, and each change
// must reach the platform with exactly the writes it needs; then a client
// of the platform does the same to an item of the album, and each change
// must reach the gallery with exactly one Wix write, while the platform
// sees no write but the client's own. Nothing is written twice and no
// write comes back as an echo.
//
// The package has no code of its own: run it with
//
//	go test ./bothways/
package bothways
