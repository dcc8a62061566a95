# The operator's image, for users (not built in CI here: this machine has no Docker;
# tests/cluster/images/build-operator builds the same image from the release binary).
#
#   docker buildx build --platform linux/amd64,linux/arm64 -t kubectl-mysql:0.1.0 .
#   kind load docker-image kubectl-mysql:0.1.0        # or: k3d image import, minikube image load
#   kubectl mysql install-operator --image kubectl-mysql:0.1.0 --wait
#
# The build stage runs on each target platform (buildx with QEMU for the other one);
# the final image holds the binary and the C runtime it links, runs as a non-root
# user, and has no shell or package manager.
FROM rust:1.89-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src src
COPY templates templates
# `kubectl mysql version` says the commit; there is no .git in the build context.
ARG KUBECTL_MYSQL_COMMIT=unknown
RUN cargo build --release --locked --bin kubectl-mysql \
 && strip target/release/kubectl-mysql

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/kubectl-mysql /usr/local/bin/kubectl-mysql
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/kubectl-mysql"]
CMD ["run-operator"]
