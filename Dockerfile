# The charterguard image: the audit CronJob (deploy/k8s/charterguard-audit.yaml) and the
# admission webhook (deploy/k8s/charterguard-admission.yaml) run it. Built by .github/workflows/release.yml and pushed to
# GHCR; linted by hadolint in tests/it/workflows.rs.
#
# The runtime image is distroless (glibc, CA certificates, no shell, no package manager) and
# runs as its non-root user; the binary is the release build with every feature (scan, audit
# aws, audit k8s, admission).

FROM rust:1.95.0-slim-bookworm AS build
ARG CHARTERGUARD_COMMIT=unknown
ENV CHARTERGUARD_COMMIT=${CHARTERGUARD_COMMIT}
WORKDIR /src
COPY . .
RUN cargo build --release --locked --features live \
    && install -m 0755 target/release/charterguard /charterguard

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /charterguard /usr/local/bin/charterguard
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/charterguard"]
CMD ["--help"]
