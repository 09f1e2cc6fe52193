// Package deploy keeps gallerysync's deployment files true. There is no
// container engine or cluster in the test environment, so its tests read the
// files the way the tools do and check what a person running them relies on:
//
//   - every image builds from its Dockerfile's build-stage layout alone, and
//     every GALLERYSYNC_* variable set for it in docker-compose.yml or the
//     Kubernetes overlays is a flag its binary knows;
//   - docker-compose.yml loads with compose-go, with and without the sandbox
//     profile, and wires health checks, start order, persistence and
//     credentials as documented;
//   - every kustomize overlay renders, decodes strictly into the Kubernetes
//     API types, and keeps the security, availability, scaling and network
//     invariants of deploy/README.md;
//   - the Grafana dashboard and the Prometheus alerts parse and name only
//     metrics that the code (or a named exporter) defines.
//
// The probe command beside it is the health check built into every image.
package deploy
