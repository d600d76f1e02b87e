# Sourced by the scripts: where drover keeps machine-local state and caches (outside the
# checkout, so a fresh clone reuses them), and the Pulumi engine's offline settings.
export DROVER_CACHE="${DROVER_CACHE:-/var/cache/drover}"
export DROVER_STATE="${DROVER_STATE:-/var/lib/drover}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
if [ -f "$DROVER_STATE/pulumi-bin" ]; then
  PATH="$(cat "$DROVER_STATE/pulumi-bin"):$PATH"; export PATH
fi
