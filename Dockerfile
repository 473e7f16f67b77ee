# The SCIM server. Build: docker build -t scim-server .
# Node 24 LTS (Node 20 reached end of life in April 2026); `engines` in package.json says what runs.
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# The project's own `prepare` (a build) cannot run before the sources are copied: install
# without scripts, then run the dependencies' install scripts (better-sqlite3's native build).
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild
# .dockerignore keeps the host's node_modules, dist and data out of this copy.
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/data
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The directory must exist and belong to `node` before VOLUME: a fresh named volume takes its
# owner from it, and the server (running as `node`) writes its database there.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
EXPOSE 3000
USER node
CMD ["node", "dist/apps/scim-server/src/main.js"]
