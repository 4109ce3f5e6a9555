# syntax=docker/dockerfile:1
#
# tokend as a static, non-root container image.
#
#   docker build --build-arg VERSION="$(git describe --tags --always --dirty)" -t tokend .
#   docker run -d --name tokend -p 8080:8080 -v tokend-data:/var/lib/tokend tokend
#   docker logs tokend 2>/dev/null   # the first admin key, printed once to standard output
#
# The binary is built without cgo (SQLite is modernc.org/sqlite, pure Go) and
# runs on distroless "static": no shell, no package manager, CA certificates
# and /etc/passwd only, as the user nonroot (uid and gid 65532). SQLite data
# lives in the volume /var/lib/tokend, owned by that user, mode 0700.
#
# There is no HEALTHCHECK: the image has no shell or HTTP client to run one.
# Probe over HTTP from outside instead: GET /healthz (liveness) and GET
# /readyz (readiness), e.g. Kubernetes httpGet probes on port 8080. See
# docs/operations.md#deploying. For production, pin both base images by
# digest (FROM image:tag@sha256:…).

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Module downloads are a layer of their own, reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# What `tokend version` prints (.git is not in the build context).
ARG VERSION=""
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/tokend ./cmd/tokend \
    && mkdir -p /out/var-lib/tokend && chmod 0700 /out/var-lib/tokend

FROM gcr.io/distroless/static-debian13:nonroot
ARG VERSION=""
LABEL org.opencontainers.image.title="tokend" \
      org.opencontainers.image.description="Self-hosted API token server" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/tokend /usr/local/bin/tokend
# The data directory, 0700 and owned by nonroot (copied as an entry of its
# parent, so that its own mode and owner are kept): a named volume mounted
# there starts as a copy of it, with the same owner and mode.
COPY --from=build --chown=65532:65532 /out/var-lib/ /var/lib/
ENV TOKEND_ADDR=:8080 \
    TOKEND_DATA_DIR=/var/lib/tokend \
    TOKEND_LOG_FORMAT=json
USER 65532:65532
VOLUME ["/var/lib/tokend"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/tokend"]
CMD ["serve"]
