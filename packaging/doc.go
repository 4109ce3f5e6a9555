// Package packaging holds the files that deploy and watch tokend: the
// systemd unit, the Grafana dashboard and the Prometheus alert rules (the
// Dockerfile and docker-compose.yml are at the repository root). It has no
// code; its tests check the dashboard and the rules against the metrics a
// real tokend process exports, so that they cannot drift from the code.
package packaging
