#!/usr/bin/env bash
# Follows deploy/station/INSTALL.md step by step (the step numbers match).
#
#   deploy/station/install.sh --emulated DIR [--source SRC] [--seconds N]
#       A check of the walk-through without hardware or root: a fresh venv in DIR/venv, the station
#       extra installed from SRC (the repository, default; or a wheel), an emulated thermometer and
#       beam counter on pseudo-terminals, the configuration and secrets written as in steps 5-6, the
#       station run for N seconds (step 7), its kiosk page, /health and /metrics checked, the journal
#       checked to be 0600; steps 1, 2, 8 and 9 are printed, not done.
#   sudo deploy/station/install.sh [--source SRC]
#       The real thing on a station (as root): steps 1-3, 5, 8 and 9; steps 4 and 6 need you
#       (finding the devices, the token), so the script stops with what to do before step 7.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
source_spec="$repo"
emulated=""
seconds=20

while [ $# -gt 0 ]; do
    case "$1" in
        --emulated) emulated="$2"; shift 2 ;;
        --source) source_spec="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done

step() { printf '\n== step %s: %s\n' "$1" "$2"; }
skip() { printf '   (not done here: %s)\n' "$1"; }

if [ -n "$emulated" ]; then
    mkdir -p "$emulated"
    root="$(cd "$emulated" && pwd)"
    prefix="$root/venv"; etc="$root/etc"; state="$root/state"
else
    [ "$(id -u)" -eq 0 ] || { echo "run as root (or use --emulated DIR)" >&2; exit 2; }
    prefix=/opt/gerbang; etc=/etc/gerbang; state=/var/lib/gerbang-station
fi

step 1 "system packages"
if [ -n "$emulated" ]; then
    skip "apt-get install -y python3 python3-venv chromium unclutter"
else
    apt-get update && apt-get install -y python3 python3-venv chromium unclutter
fi

step 2 "the service user"
if [ -n "$emulated" ]; then
    skip "systemd-sysusers with deploy/systemd/gerbang.sysusers.conf"
else
    install -m 0644 "$repo/deploy/systemd/gerbang.sysusers.conf" /etc/sysusers.d/gerbang.conf
    systemd-sysusers
fi

step 3 "the software, in its own venv ($prefix)"
[ -x "$prefix/bin/python" ] || python3 -m venv "$prefix"
"$prefix/bin/python" -m pip install --quiet "${source_spec}[station]"
"$prefix/bin/gerbang" --version
if "$prefix/bin/python" -c "import sqlalchemy" 2>/dev/null || "$prefix/bin/python" -c "import psycopg" 2>/dev/null; then
    echo "the station extra brought a database library: it should not" >&2; exit 1
fi
gerbang="$prefix/bin/gerbang"

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

step 4 "the devices"
"$gerbang" thermometer protocols
if [ -n "$emulated" ]; then
    mkdir -p "$root/dev"
    "$gerbang" thermometer emulate --protocol gy-mcu90614 --link "$root/dev/thermometer" > "$root/thermometer.log" 2>&1 &
    pids+=($!)
    "$gerbang" beams emulate --link "$root/dev/beams" --people-per-min 30 --seed 7 > "$root/beams.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 50); do [ -e "$root/dev/thermometer" ] && [ -e "$root/dev/beams" ] && break; sleep 0.2; done
    thermometer_url="$root/dev/thermometer"; beams_url="$root/dev/beams"
    echo "   emulated thermometer: $thermometer_url -> $(readlink "$thermometer_url")"
    echo "   emulated beam counter: $beams_url -> $(readlink "$beams_url")"
else
    ls -l /dev/serial/by-id/ 2>/dev/null || echo "   no USB serial device found yet"
    thermometer_url="hwgrep://1a86:7523"; beams_url="/dev/serial/by-id/usb-gerbang-beams"
fi

step 5 "the configuration ($etc/station.toml)"
install -d -m 0755 "$etc"
kiosk_port=8088
[ -n "$emulated" ] && kiosk_port="$("$prefix/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
if [ -n "$emulated" ] || [ ! -e "$etc/station.toml" ]; then
    # The example, with this station's devices, journal and kiosk port set (steps 4-5 of the guide).
    "$prefix/bin/python" - "$repo/config/station.example.toml" "$etc/station.toml" <<PY
import re, sys
settings = {
    "station": {"journal": "$state/journal.sqlite3"},
    "dashboard": {"url": "http://127.0.0.1:9"},  # no dashboard in this check: the journal keeps all
    "thermometer": {"url": "$thermometer_url"},
    "camera": {"source": ""},  # no camera in the check; a station sets "0" (the first USB camera)
    "counting": {"beams_url": "$beams_url"},
    "kiosk": {"port": $kiosk_port},
}
section, lines = "", []
for line in open(sys.argv[1], encoding="utf-8").read().splitlines():
    if m := re.match(r"\[([a-z_.]+)\]", line):
        section = m.group(1)
    elif (m := re.match(r"([a-z_]+) = ", line)) and m.group(1) in settings.get(section, {}):
        value = settings[section][m.group(1)]
        line = f"{m.group(1)} = " + (f'"{value}"' if isinstance(value, str) else str(value))
    lines.append(line)
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(lines) + "\n")
PY
fi
[ -n "$emulated" ] || sed -i 's#^source = ""#source = "0"#' "$etc/station.toml"

step 6 "the secrets ($etc/station.env, 0600)"
if [ -n "$emulated" ]; then
    install -m 0600 /dev/null "$etc/station.env"
    printf 'GERBANG_STATION_TOKEN=%s\nGERBANG_KIOSK_PIN=%s\n' "emulated-not-registered" "4321" > "$etc/station.env"
else
    [ -e "$etc/station.env" ] || install -m 0600 /dev/null "$etc/station.env"
    if ! grep -q '^GERBANG_STATION_TOKEN=.' "$etc/station.env"; then
        echo "   now: find your devices (step 4), edit $etc/station.toml (step 5), put the station's token"
        echo "   and the guards' PIN in $etc/station.env (step 6), then run this script again."
        exit 0
    fi
fi
[ "$(stat -c %a "$etc/station.env")" = 600 ] || { echo "$etc/station.env is not 0600" >&2; exit 1; }

step 7 "a first run by hand"
if [ -n "$emulated" ]; then
    install -d -m 0700 "$state"
    (umask 077; cd "$state" && set -a && . "$etc/station.env" && set +a \
        && exec "$gerbang" --log-format json station run --config "$etc/station.toml") > "$root/station.log" 2>&1 &
    station_pid=$!
    pids+=($station_pid)
    "$prefix/bin/python" - "$kiosk_port" "$seconds" <<'PY'
import sys, time, urllib.request
port, seconds = int(sys.argv[1]), float(sys.argv[2])
base = f"http://127.0.0.1:{port}"
deadline = time.monotonic() + 60
while True:
    try:
        urllib.request.urlopen(base + "/health", timeout=2).read()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("the kiosk did not answer in 60 s (see station.log)")
        time.sleep(0.5)
time.sleep(seconds)
page = urllib.request.urlopen(base + "/", timeout=5).read().decode()
metrics = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
print(f"   kiosk page: {len(page)} bytes; /metrics:")
for line in metrics.splitlines():
    if line.startswith("gerbang_") and not line.startswith("#"):
        print("     " + line)
PY
    kill "$station_pid"; wait "$station_pid" 2>/dev/null || true
    mode="$(stat -c %a "$state/journal.sqlite3")"
    echo "   journal $state/journal.sqlite3: mode $mode"
    [ "$mode" = 600 ] || { echo "the journal is not 0600" >&2; exit 1; }
else
    skip "run it by hand as the guide says, then enable the service (step 8)"
fi

step 8 "start on boot"
if [ -n "$emulated" ]; then
    skip "install deploy/systemd/gerbang-station.service; systemctl enable --now gerbang-station"
else
    install -m 0644 "$repo/deploy/systemd/gerbang-station.service" /etc/systemd/system/
    systemctl daemon-reload
    systemctl enable --now gerbang-station
fi

step 9 "the kiosk screen"
if [ -n "$emulated" ]; then
    skip "deploy/kiosk/gerbang-kiosk.desktop into the screen user's ~/.config/autostart/"
else
    install -d "$prefix/share/gerbang"
    install -m 0755 "$repo/deploy/kiosk/gerbang-kiosk.sh" "$prefix/share/gerbang/"
    echo "   as the screen's user: install -D -m 0644 $repo/deploy/kiosk/gerbang-kiosk.desktop ~/.config/autostart/gerbang-kiosk.desktop"
fi
echo
echo "done"
