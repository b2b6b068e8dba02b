#!/usr/bin/env bash
# The fresh-machine check: runs the README's two Quick start commands, exactly as the
# README writes them, on a pristine Debian root, as an ordinary user with sudo rights.
#
#   sudo scripts/fresh-machine.sh [--rev REV] [--logs DIR] [--keep] [--warm] bookworm|trixie
#
# What it does, in order:
#   1. builds a pristine root with mmdebstrap (minbase, plus git, sudo and ca-certificates
#      only), from the Debian archive this machine's own apt sources use;
#   2. creates the user 'student' with password-less sudo (students are not root, so the
#      './attn' -> 'sudo apt-get' path is what gets tested);
#   3. clones REV (default: HEAD) of this repository into /home/student/attn;
#   4. runs each Quick start block of README.md there as 'student', timed, output to the
#      terminal and to DIR/<suite>-<n>.log (default DIR: build/fresh-machine);
#   5. with --warm, times the first './attn' once more in a second clone: the "warm"
#      machine, every package installed but nothing built (the README's timing table; CI
#      leaves it out to save two minutes a suite);
#   6. prints each command's time and exit status; exits 1 when either README command fails.
# The root and its mounts are gone when it ends, however it ends (--keep leaves the root
# for a look inside: sudo chroot <root> runuser -l student).
#
# Needs root and mmdebstrap (sudo apt-get install mmdebstrap); about 20 minutes a suite on
# two cores, nearly all of it the README's own commands.
set -euo pipefail

usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; }
die() { printf 'fresh-machine: %s\n' "$*" >&2; exit 2; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rev=HEAD
logs="$repo/build/fresh-machine"
keep=0
warm=0
suite=""
while (($#)); do
  case "$1" in
    --rev) rev=${2:?--rev needs a commit}; shift ;;
    --logs) logs=${2:?--logs needs a folder}; shift ;;
    --keep) keep=1 ;;
    --warm) warm=1 ;;
    -h|--help) usage; exit 0 ;;
    bookworm|trixie) suite=$1 ;;
    *) die "unknown argument '$1'; expected bookworm or trixie (--help lists the options)" ;;
  esac
  shift
done
[[ -n $suite ]] || die "which Debian? expected bookworm (12) or trixie (13)"
[[ $(id -u) -eq 0 ]] || die "needs root (mmdebstrap, chroot): sudo $0 $suite"
command -v mmdebstrap >/dev/null || die "needs mmdebstrap: sudo apt-get install mmdebstrap"
commit=$(git -C "$repo" rev-parse --verify "$rev^{commit}") || die "'$rev' is not a commit of $repo"
[[ -z $(git -C "$repo" status --porcelain --untracked-files=no) ]] ||
  echo "fresh-machine: note: uncommitted changes are not tested; the root gets commit ${commit:0:12}"

# --- The README's Quick start blocks, as the commit under test writes them -------------------
# The first two ```sh blocks between the "Quick start" heading and the next heading of
# level 1 or 2.
mapfile -d '' blocks < <(awk '
  /^#+[ \t]*Quick start/ { inside = 1; next }
  inside && /^##?[ \t]/ { exit }
  inside && !fenced && /^```(sh|bash|shell|console)?[ \t]*$/ { fenced = 1; text = ""; next }
  inside && fenced && /^```/ { fenced = 0; printf "%s%c", text, 0; next }
  inside && fenced { text = text $0 "\n" }
' <(git -C "$repo" show "$commit:README.md"))
((${#blocks[@]} >= 2)) || die "README.md of ${commit:0:12} has no Quick start section with two sh blocks"
blocks=("${blocks[@]:0:2}")

# --- The Debian archive this machine uses, for the other suite ------------------------------
# apt-get indextargets reads both sources.list and deb822 .sources files. The host's own
# suites (bookworm, bookworm-updates, bookworm-security) map to the same ones of $suite.
host_codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
mapfile -t sources < <(apt-get indextargets --format '$(ORIGIN)|$(CODENAME)|$(SITE)|$(RELEASE)|$(COMPONENT)' \
                         'Identifier: Packages' 2>/dev/null |
  awk -F'|' -v host="$host_codename" -v suite="$suite" '
    $1 == "Debian" && host != "" && index($4, host) == 1 {
      key = $3 " " suite substr($4, length(host) + 1)
      if (!(key in seen)) { order[++n] = key; seen[key] = "" }
      if (index(" " seen[key] " ", " " $5 " ") == 0) seen[key] = seen[key] " " $5
    }
    END { for (i = 1; i <= n; i++) print "deb " order[i] seen[order[i]] }')
((${#sources[@]})) || die "no Debian archive in this machine's apt sources (apt-get indextargets)"
# Settings that reach the archive (a proxy, a frozen snapshot's Valid-Until) go along.
mapfile -t aptopts < <(apt-config dump 2>/dev/null |
  grep -E '^Acquire::((https?|ftp)::Proxy|Check-Valid-Until|Check-Date) ' || true)

# --- A pristine root, removed however this ends ---------------------------------------------
work=$(mktemp -d "${TMPDIR:-/var/tmp}/attn-fresh-$suite.XXXXXX")
root="$work/root"
runner=""
cleanup() {
  status=$?
  set +e  # a failing step here must not skip the removal
  trap - EXIT INT TERM
  # unshare ignores SIGTERM while it waits; its --kill-child ends all inside with it.
  [[ -n $runner ]] && kill -KILL "$runner" 2>/dev/null && wait "$runner" 2>/dev/null
  if ((keep)); then
    echo "fresh-machine: kept the root: sudo chroot $root runuser -l student (remove: sudo rm -rf $work)"
  else
    rm -rf --one-file-system "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$logs"
echo "fresh-machine: $suite root from: ${sources[*]}"
opt_args=()
for o in "${aptopts[@]}"; do opt_args+=(--aptopt="$o"); done
start=$SECONDS
mmdebstrap --quiet --variant=minbase --include=git,sudo,ca-certificates "${opt_args[@]}" \
  "$suite" "$root" "${sources[@]}" >"$logs/$suite-root.log" 2>&1 ||
  { tail -n 30 "$logs/$suite-root.log" >&2; die "mmdebstrap failed (log: $logs/$suite-root.log)"; }
echo "fresh-machine: root built in $((SECONDS - start)) s"
((${#aptopts[@]})) && printf '%s\n' "${aptopts[@]}" >"$root/etc/apt/apt.conf.d/00fresh-machine"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The root shares this machine's host name: sudo looks it up.
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n127.0.1.1 %s\n' "$(uname -n)" >"$root/etc/hosts"
chroot "$root" useradd --create-home --shell /bin/bash --groups sudo student
echo 'student ALL=(ALL:ALL) NOPASSWD: ALL' >"$root/etc/sudoers.d/student"
chmod 0440 "$root/etc/sudoers.d/student"

clone() {  # clone <folder under /home/student>
  git clone --quiet --no-hardlinks "$repo" "$root/home/student/$1"
  git -C "$root/home/student/$1" -c advice.detachedHead=false checkout --quiet "$commit"
  chroot "$root" chown -R student:student "/home/student/$1"
}
clone attn
echo "fresh-machine: cloned ${commit:0:12} into /home/student/attn"

# run_as_student <folder> <log> <script>: the script in a login shell of 'student', in a
# mount and process namespace of its own, so its mounts and processes end with it.
run_as_student() {
  unshare --mount --propagation private --pid --fork --kill-child -- bash -c '
    set -e
    root=$1
    # pivot_root, not chroot: the root is then the mount namespace'"'"'s own, as on a real
    # machine, and user namespaces work inside (the kernel refuses them in a chroot), so
    # the grading sandbox (bubblewrap) is tested here too. The root must be a mount point,
    # made first so that the mounts below land on it.
    mount --bind "$root" "$root"
    mount --rbind /dev "$root/dev"
    mount -t proc proc "$root/proc"
    mount -t sysfs sysfs "$root/sys"
    mount -t tmpfs tmpfs "$root/tmp"
    mkdir -p "$root/.old-root"
    cd "$root"
    pivot_root . .old-root
    /.old-root/usr/bin/umount -l /.old-root
    cd /
    exec runuser -l student -c "cd ~/$2 && $3"
  ' fresh-machine "$root" "$1" "$3" > >(tee "$2") 2>&1 </dev/null &
  runner=$!
  wait "$runner"
}

# --- The README's commands ------------------------------------------------------------------
names=("${blocks[0]%$'\n'}" "${blocks[1]%$'\n'}" "${blocks[0]%$'\n'} (warm)")
folders=(attn attn attn-warm)
scripts=("${blocks[0]}" "${blocks[1]}" "${blocks[0]}")
results=()
failed=0
runs=(0 1)
((warm)) && runs+=(2)
for i in "${runs[@]}"; do
  if ((i == 2)); then
    ((failed)) && break
    clone attn-warm
  fi
  log="$logs/$suite-$((i + 1)).log"
  printf '\n== fresh-machine %s: %s\n' "$suite" "${names[$i]//$'\n'/; }"
  start=$SECONDS
  set +e
  run_as_student "${folders[$i]}" "$log" "${scripts[$i]}"
  rc=$?
  set -e
  runner=""
  results+=("$(printf '%-26s exit %-3s %5d s   (log: %s)' "${names[$i]//$'\n'/; }" "$rc" $((SECONDS - start)) "$log")")
  ((rc == 0)) || failed=1
done

printf '\nfresh-machine %s at %s (%s):\n' "$suite" "${commit:0:12}" \
  "$(chroot "$root" sh -c '. /etc/os-release; echo "$PRETTY_NAME"')"
printf '  %s\n' "${results[@]}"
if ((failed)); then
  echo "fresh-machine $suite: FAILED (the failing command's last lines are above; whole log listed)"
  exit 1
fi
echo "fresh-machine $suite: passed"
