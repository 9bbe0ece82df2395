# The gateway (and the simulator and demo traffic of docker-compose.yml) from this repository.
# TypeScript runs directly on Node 24 (type stripping), so there is no build step.
FROM node:24.21.0-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production
# Production dependencies only; peer dependencies (hono, @opentelemetry/api) install with them.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

COPY bin ./bin
COPY src ./src
COPY demo ./demo

USER node
EXPOSE 8787 9464
CMD ["node", "src/cli/main.ts", "serve"]
