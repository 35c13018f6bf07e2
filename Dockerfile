# syntax=docker/dockerfile:1
# Image of the sealed-secrets-rs controller: a static (musl) binary on distroless/static, run as the
# non-root uid 1001 like upstream's image, entrypoint `controller` (deploy/deployment.yaml runs
# `command: [controller]`).
#
# This repository's machines have no container runtime, so this file is not built or tested here;
# it is kept deliberately simple.
#
#   docker build -t sealed-secrets-rs/controller:0.1.0 .

FROM rust:1-alpine AS build
# aws-lc-rs (the RSA backend) builds a C library: compiler, cmake, perl; Go is not needed.
RUN apk add --no-cache build-base cmake perl
WORKDIR /src
COPY . .
# On Alpine the default target is *-linux-musl, which links statically.
RUN cargo build --release --locked -p sealed-secrets-controller \
 && install -D -m 0755 target/release/sealed-secrets-controller /out/controller

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/controller /usr/local/bin/controller
USER 1001
EXPOSE 8080 8081
ENTRYPOINT ["controller"]
