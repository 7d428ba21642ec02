# Build: the C libraries (SQLite, libpq, OpenSSL) are compiled from bundled sources, so the build
# image needs only Rust, a C compiler, perl and make.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin catalyst

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/catalyst --create-home catalyst
COPY --from=build /src/target/release/catalyst /usr/local/bin/catalyst
USER catalyst
WORKDIR /var/lib/catalyst
ENV CATALYST_BIND=0.0.0.0:8080 \
    CATALYST_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["catalyst"]
CMD ["serve"]
