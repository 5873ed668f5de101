# syntax=docker/dockerfile:1
#
# Sightline container image (docs/deploy.md). Multi-stage:
#   build  - npm ci (with dev dependencies) and `npm run build` (tsc -> dist/)
#   deps   - production dependencies only
#   final  - node:24-bookworm-slim + dist, bin, schema, examples and prod node_modules, non-root
#
#   docker build -t sightline .
#   docker run --rm -v "$PWD/my.yaml:/etc/sightline/sightline.yaml:ro" -p 8443:8443 -p 127.0.0.1:9464:9464 sightline
#
# The config must set `admin: { host: 0.0.0.0 }` for the admin port to be reachable from outside
# the container (the default is 127.0.0.1). The bundled default config is deploy/sightline.yaml
# (the compose stack's), which expects the stack's `demo-backend` service.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS final
LABEL org.opencontainers.image.title="sightline" \
      org.opencontainers.image.description="Observability-first TCP / TLS / HTTP / WebSocket proxy for Node.js" \
      org.opencontainers.image.licenses="MIT"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY schema ./schema
COPY examples ./examples
COPY deploy/sightline.yaml /etc/sightline/sightline.yaml
# The log directory belongs to the runtime user so `telemetry.logging.destination:
# /var/log/sightline/...` works on a fresh volume too.
RUN mkdir -p /var/log/sightline && chown node:node /var/log/sightline
# `node` (uid 1000) comes with the base image.
USER node
# 9464: admin listener (/metrics, /healthz, /readyz, /api/*, status page). The proxy ports come
# from the config's routes (the compose stack uses 8080, 8443, 8444).
EXPOSE 9464
# No V8 flags: the proxy paces its own garbage collection (README, "Throughput and GC").
ENTRYPOINT ["node", "bin/sightline.js"]
CMD ["start", "-c", "/etc/sightline/sightline.yaml"]
