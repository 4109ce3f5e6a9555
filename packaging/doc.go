// Package packaging holds the files that deploy and watch tokend: the
// systemd unit, the Grafana dashboard and the Prometheus alert rules (the
// Dockerfile and docker-compose.yml are at the repository root). It has no
// code; its tests check these files against a real tokend process: the
// metrics it exports, what a real Prometheus scraping it answers to each
// dashboard query, and that every system call it makes passes the unit's
// filter, so that none of them can drift from the code.
package packaging
