# syntax=docker/dockerfile:1
# scan-bridge image: `docker build -t scan-bridge .`
# Runs `scan-bridge start --role all` by default; any CLI command can be given instead,
# e.g. `docker run --rm scan-bridge status --json` or `... demo-scanner --assets 400`.

ARG NODE_IMAGE=node:20.20-bookworm-slim

# Build stage: compile TypeScript to dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
# `npm run build` runs tsc, then this script (it copies the Lua scripts and drops compiled files whose source is gone).
COPY scripts/prune-dist.mjs ./scripts/
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies and the compiled code only.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    ARROW_DIR=/data/arrow_scans
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The scan folder must exist and belong to `node` in the image, so that a new named volume
# mounted there inherits that ownership and the demo scanner (running as node) can write to it.
RUN mkdir -p /data/arrow_scans && chown node:node /data/arrow_scans
USER node
EXPOSE 3000
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["start", "--role", "all"]
