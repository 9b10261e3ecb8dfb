# Sourced by the check scripts: a scratch folder `$work` and a `pids` array
# of background processes, all killed and waited for, and the folder
# removed, however the script ends.
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
