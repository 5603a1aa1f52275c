# The exchange core: one image for the engine server and the persistence workers (different commands).
# Node 20: uWebSockets.js's binaries and slonik 47 are built for it (see docs and ../shared notes).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY engine ./engine
COPY src ./src
COPY persistence ./persistence
COPY bench ./bench
RUN npx tsc -p tsconfig.build.json

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The migrations are read at run time from sql/migrations (persistence/migrate.ts finds them above dist/).
COPY sql ./sql
USER node
EXPOSE 8080
# Default: the engine server. Workers override the command (see docker-compose.yml).
CMD ["node", "dist/src/main.js"]
