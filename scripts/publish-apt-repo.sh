#!/usr/bin/env bash
# Makes (or adds to) sealdrop's signed apt repository: a folder to serve over
# HTTPS or onion, or to read from a USB stick (`file:`):
#
#   scripts/publish-apt-repo.sh REPO KEYID DEB...
#
#   REPO/pool/main/<package>_<version>_<arch>.deb
#   REPO/dists/stable/main/binary-amd64/Packages(.gz)
#   REPO/dists/stable/{Release,InRelease,Release.gpg}
#   REPO/sealdrop-archive-keyring.gpg     the public key apt checks with
#
# KEYID is the OpenPGP key (in gpg's GNUPGHOME) that signs the Release file;
# apt refuses an index it does not verify, and one older than its Valid-Until
# (30 days; SEALDROP_REPO_VALID_SECONDS): a mirror cannot keep serving an old
# index to hold back a fix. Publish again (re-sign) at least every 30 days. docs/DEPLOY.md, "The release key",
# says how the real key is made and kept; the tests sign with a throwaway one.
set -euo pipefail
repo=${1:?usage: scripts/publish-apt-repo.sh REPO KEYID DEB...}
key=${2:?signing key id}
shift 2
[ $# -gt 0 ] || { echo "no .deb given" >&2; exit 2; }
arch=amd64
mkdir -p "$repo/pool/main" "$repo/dists/stable/main/binary-$arch"
cp -- "$@" "$repo/pool/main/"
cd "$repo"
apt-ftparchive packages pool > "dists/stable/main/binary-$arch/Packages"
gzip -9n < "dists/stable/main/binary-$arch/Packages" > "dists/stable/main/binary-$arch/Packages.gz"
apt-ftparchive \
  -o APT::FTPArchive::Release::Origin=sealdrop \
  -o APT::FTPArchive::Release::Label=sealdrop \
  -o APT::FTPArchive::Release::Suite=stable \
  -o APT::FTPArchive::Release::Codename=stable \
  -o APT::FTPArchive::Release::Architectures=$arch \
  -o APT::FTPArchive::Release::Components=main \
  -o APT::FTPArchive::Release::Description="sealdrop packages" \
  -o APT::FTPArchive::Release::ValidTime="${SEALDROP_REPO_VALID_SECONDS:-2592000}" \
  release dists/stable > dists/stable/Release.new
mv dists/stable/Release.new dists/stable/Release
rm -f dists/stable/InRelease dists/stable/Release.gpg
gpg --batch --yes --local-user "$key" --digest-algo SHA512 --clearsign -o dists/stable/InRelease dists/stable/Release
gpg --batch --yes --local-user "$key" --digest-algo SHA512 -abs -o dists/stable/Release.gpg dists/stable/Release
gpg --batch --yes --export "$key" > sealdrop-archive-keyring.gpg
# Readable by apt's unprivileged downloader (_apt) when read as file:.
chmod -R a+rX .
echo "apt repository in $repo, signed by $key"
