# syntax=docker/dockerfile:1
# One image for all of SchedExt: the extender (/app/extender), the webhook (/app/webhook) and the
# `schedext` CLI / node agent (/app/cli), framework-dependent on the chiseled ASP.NET runtime, non-root.
#   docker build -t schedext:dev .        (or: make image)
# Containers pick their program with `command:`, e.g. ["dotnet", "/app/extender/SchedExt.Extender.dll"].

ARG DOTNET_VERSION=10.0

# The build output is IL only, so build once on the builder's own platform for every target platform.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION}-noble AS build
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
WORKDIR /src

# Restore layer: only the files that decide the package graph, so a source edit reuses the cached packages.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY extender/SchedExt.Topology/SchedExt.Topology.csproj extender/SchedExt.Topology/
COPY extender/SchedExt.Extender/SchedExt.Extender.csproj extender/SchedExt.Extender/
COPY extender/SchedExt.Cli/SchedExt.Cli.csproj extender/SchedExt.Cli/
COPY extender/SchedExt.Simulator/SchedExt.Simulator.csproj extender/SchedExt.Simulator/
COPY webhook/SchedExt.Webhook/SchedExt.Webhook.csproj webhook/SchedExt.Webhook/
RUN dotnet restore extender/SchedExt.Extender/SchedExt.Extender.csproj \
 && dotnet restore webhook/SchedExt.Webhook/SchedExt.Webhook.csproj \
 && dotnet restore extender/SchedExt.Cli/SchedExt.Cli.csproj

# Build layer: the sources of the shipped projects only (tests, manifests and certificates stay out; see .dockerignore).
COPY extender/ extender/
COPY webhook/ webhook/
RUN dotnet publish extender/SchedExt.Extender/SchedExt.Extender.csproj -c Release --no-restore -p:UseAppHost=false -o /out/extender \
 && dotnet publish webhook/SchedExt.Webhook/SchedExt.Webhook.csproj -c Release --no-restore -p:UseAppHost=false -o /out/webhook \
 && dotnet publish extender/SchedExt.Cli/SchedExt.Cli.csproj -c Release --no-restore -p:UseAppHost=false -o /out/cli

# Chiseled: no shell, no package manager, only the runtime; the default user is `app` (UID 1654).
FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION}-noble-chiseled AS final
LABEL org.opencontainers.image.title="schedext" \
      org.opencontainers.image.description="Topology-aware GPU scheduling for Kubernetes: scheduler extender, admission webhook, node agent"
WORKDIR /app
# Tiered JIT: start counting calls to promote hot code to optimised code at once, instead of after a 100 ms window with
# no new JIT activity (10x that on one CPU). A busy extender or webhook otherwise keeps restarting that window and serves
# from unoptimised code for seconds to minutes; measured in docs/benchmarks.md ("Tiered compilation").
ENV DOTNET_TC_CallCountingDelayMs=0
# Owned by root: the app user can read and run the program but never change it.
COPY --from=build --chown=0:0 /out/ /app/
USER 1654:1654
EXPOSE 8080 8443 9090
ENTRYPOINT ["dotnet", "/app/cli/schedext.dll"]
CMD ["--help"]
