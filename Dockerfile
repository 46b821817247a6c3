# syntax=docker/dockerfile:1
#
# vigil container image: a static vigil binary on Debian 12 slim with the
# iptables and ipset commands it runs.
#
#   docker build -t vigil --build-arg VERSION=$(git describe --tags --always) .
#
# Banning needs the host's network namespace and CAP_NET_ADMIN (+CAP_NET_RAW
# for legacy iptables): the rules must land in the firewall that the
# traffic passes, and only root in the container gets capabilities from
# --cap-add (Docker grants no ambient capabilities to other users). Group adm
# reads a Debian host's /var/log/nginx (root keeps no CAP_DAC_OVERRIDE). So:
#
#   docker run --network host --cap-drop ALL --cap-add NET_ADMIN --cap-add NET_RAW \
#     --user 0:0 --group-add adm -e VIGIL_FIREWALL__BACKEND=ipset \
#     -v /etc/vigil:/etc/vigil:ro -v /var/log/nginx:/var/log/nginx:ro \
#     -v vigil-state:/var/lib/vigil vigil
#
# Without them (the image's default user), firewall.backend is dry-run (the
# image sets VIGIL_FIREWALL__BACKEND=dry-run): vigil detects, alerts and shows
# what it would ban, and touches nothing.
# docker-compose.yml and docs/OPERATIONS.md show both.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
RUN go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/vigil ./cmd/vigil \
 && /out/vigil version

FROM debian:12-slim
# vigil runs these: iptables/ip6tables/iptables-restore (package iptables)
# and ipset. ca-certificates for Slack over HTTPS.
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables ipset ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# Unprivileged default user. The state and log directories belong to it and
# to group root (gid 0, mode 0770), so the same volumes also work when the
# container runs as root for banning: root without CAP_DAC_OVERRIDE (after
# --cap-drop ALL) still writes them through the group.
RUN groupadd --system --gid 10001 vigil \
 && useradd --system --uid 10001 --gid vigil --home-dir /var/lib/vigil --shell /usr/sbin/nologin vigil \
 && install -d -o vigil -g root -m 0770 /var/lib/vigil /var/log/vigil \
 && install -d -m 0755 /etc/vigil
COPY --from=build /out/vigil /usr/local/bin/vigil
COPY contrib/vigil.yaml /etc/vigil/vigil.yaml
USER vigil
WORKDIR /var/lib/vigil
VOLUME ["/var/lib/vigil", "/var/log/vigil"]
EXPOSE 9750
# The image's own configuration does not touch the firewall: the default
# user has no capabilities. Set VIGIL_FIREWALL__BACKEND=ipset when running
# as root with NET_ADMIN in the host network namespace (docker-compose.yml).
ENV VIGIL_FIREWALL__BACKEND=dry-run
# Liveness through /healthz without curl or wget: bash's /dev/tcp. The
# address is http.listen (127.0.0.1:9750 by default; with --network host
# that is the host's loopback). Set HEALTHCHECK_ADDR if you move the
# listener (not VIGIL_*: vigil rejects environment variables it does not
# know), or use --no-healthcheck when http.listen is "".
ENV HEALTHCHECK_ADDR=127.0.0.1:9750
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/${HEALTHCHECK_ADDR%:*}/${HEALTHCHECK_ADDR##*:} && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -r -t 4 _ code _ <&3 && [ \"$code\" = 200 ]"]
ENTRYPOINT ["/usr/local/bin/vigil"]
CMD ["run", "--config", "/etc/vigil/vigil.yaml"]
