#!/usr/bin/env bash
# System packages the project needs: fonts for the specimen generator (Noto CJK for Chinese, a real
# OCR-B for machine codes, DejaVu for Latin), Unihan data for telecodes and pinyin, and Debian's
# Chromium + ChromeDriver for the browser tests. Needs root (apt-get); skips what is already there.
set -euo pipefail
packages=(fonts-noto-cjk fonts-ocr-b fonts-dejavu-core unicode-data fontconfig chromium chromium-driver)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
  echo "Missing system packages: ${missing[*]}" >&2
  echo "Install them as root: apt-get install ${missing[*]}" >&2
  exit 1
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
