#!/bin/sh
# Put the station's kiosk page full-screen on its screen: wait until the station serves it, then
# start Chromium in kiosk mode (no address bar, no exit by mouse, no "restore pages" bubble).
# Started by the desktop session's autostart (gerbang-kiosk.desktop) as the screen's user.
# GERBANG_KIOSK_URL: the page (default http://127.0.0.1:8088/); CHROMIUM: the browser binary.
set -eu
url="${GERBANG_KIOSK_URL:-http://127.0.0.1:8088/}"
browser="${CHROMIUM:-$(command -v chromium || command -v chromium-browser)}"
profile="${XDG_RUNTIME_DIR:-/tmp}/gerbang-kiosk-profile"

# The station may still be starting (or restarting after a failure): wait for its page.
tries=0
until python3 -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$url" 2>/dev/null; do
    tries=$((tries + 1))
    [ "$tries" -ge 120 ] && { echo "gerbang-kiosk: $url did not answer in 4 minutes; starting anyway" >&2; break; }
    sleep 2
done

# No screen saver, no blanking: the visitor must always see the page.
command -v xset >/dev/null 2>&1 && { xset s off; xset -dpms; xset s noblank; } 2>/dev/null || true

# A fresh profile each start: no crash bubble, no translate bar, nothing remembered.
rm -rf "$profile"
exec "$browser" \
    --kiosk "$url" \
    --user-data-dir="$profile" \
    --noerrdialogs --disable-infobars --no-first-run --disable-session-crashed-bubble \
    --disable-translate --disable-features=Translate,TranslateUI --overscroll-history-navigation=0 \
    --disable-pinch --check-for-update-interval=31536000 --autoplay-policy=no-user-gesture-required
