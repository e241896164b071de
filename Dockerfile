# The images of docker-compose.yml (written by `scripts/cluster compose` from deploy/topology.ts).
# Target "temporal": the Temporal server, temporal-sql-tool and the Temporal CLI, built from the Go
# module proxy exactly as `scripts/cluster up` builds them natively. Target "winnow" (the default):
# the winnow CLI, whose `worker` command the workers run.
ARG TEMPORAL_SERVER_VERSION=v1.29.1
ARG TEMPORAL_CLI_VERSION=v1.5.1

FROM golang:1.25-bookworm AS temporal-build
ARG TEMPORAL_SERVER_VERSION
ARG TEMPORAL_CLI_VERSION
ENV CGO_ENABLED=0 GOBIN=/out
RUN go install go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION} go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION} \
 && go install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION} \
 && mv /out/server /out/temporal-server && mv /out/sql /out/temporal-sql-tool

FROM debian:bookworm-slim AS temporal
COPY --from=temporal-build /out/ /usr/local/bin/
WORKDIR /etc/temporal

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim AS winnow
WORKDIR /app
ENV NODE_ENV=production WINNOW_HOME=/var/lib/winnow
COPY --from=build /app/package.json /app/.npmrc ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/examples ./examples
ENTRYPOINT ["node", "bin/winnow.js"]
CMD ["worker"]
