# Multi-stage: TypeScript is compiled in a build stage (`npm run build` → dist/, views copied
# beside it), production dependencies are installed in their own stage, and the final image holds
# only those two. Production runs plain JavaScript: no TypeScript loader in memory or at start-up.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY views ./views
# The benchmarks are for a developer's machine, not the image.
RUN npm run build && rm -rf dist/src/bench

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 3000
CMD ["node", "dist/src/server.js", "web"]
