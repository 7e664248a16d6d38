# Multi-stage: production dependencies are installed in their own stage, and the final image holds
# only them, the source, views and migrations. TypeScript runs through tsx (a production
# dependency), so there is no separate build output to drift from the source.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY views ./views
COPY migrations ./migrations
USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "src/server.ts", "web"]
