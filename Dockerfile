# syntax=docker/dockerfile:1
# Build stage: native modules (argon2, better-sqlite3) compile here; `prepare` builds the
# TypeScript, converts the shipped face-api weights into ONNX models under models/ and builds the
# breached-password filter under build/.
FROM node:24-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY config ./config
COPY migrations ./migrations
COPY scripts ./scripts
COPY models ./models
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

# Runtime stage: no compilers, non-root.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    DATA_DIR=/var/lib/tessera \
    PORT=3000
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY views ./views
COPY --from=build /app/models ./models
COPY --from=build /app/build ./build
RUN mkdir -p /var/lib/tessera && chown node:node /var/lib/tessera && ln -s /app/bin/tessera.js /usr/local/bin/tessera
USER node
VOLUME ["/var/lib/tessera"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
