// Package packaging holds the files that deploy and watch tokend: the
// systemd unit, the Grafana dashboard and the Prometheus alert rules (the
// Dockerfile and docker-compose.yml are at the repository root). It has no
// code; its tests check the dashboard and the rules against a real tokend
// process (the metrics it exports, and what a real Prometheus scraping it
// answers to each query), so that they cannot drift from the code.
package packaging
